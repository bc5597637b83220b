using System.Globalization;
using System.Runtime.CompilerServices;

namespace ReleaseKit.Reconciliation;

/// <summary>What differs between the journal and the ERP for one posting.</summary>
public enum DiscrepancyClass
{
    /// <summary>Journaled (pending or acknowledged) but the ERP does not hold it. Replayed with its idempotency key.</summary>
    MissingDownstream = 0,

    /// <summary>The ERP holds a record the journal does not know. Held for a person.</summary>
    OrphanDownstream = 1,

    /// <summary>The ERP holds the posting more than once. The copies under another idempotency key are reversed.</summary>
    DuplicateDownstream = 2,

    /// <summary>The ERP holds the posting under its key with another amount or currency. Held.</summary>
    AmountMismatch = 3,

    /// <summary>The ERP holds the posting with another field (posting date, or under another idempotency key). Held.</summary>
    FieldMismatch = 4,

    /// <summary>In flight, but the owner's lease expired (the worker is gone). Replayed, or acknowledged when the ERP holds it.</summary>
    StaleInFlight = 5,

    /// <summary>The ERP holds the posting's idempotency key with another payload fingerprint. Held.</summary>
    KeyReusedWithDifferentPayload = 6,

    /// <summary>The ERP holds exactly the journaled posting but the journal never recorded the acknowledgement. Acknowledged.</summary>
    Unacknowledged = 7,

    /// <summary>The ERP rejected the posting definitively. Held: a definite rejection is never retried.</summary>
    Rejected = 8,

    /// <summary>The posting was cancelled in the journal but the ERP still holds it. Reversed.</summary>
    CompensationOutstanding = 9,

    /// <summary>The journal row cannot be used (for example its idempotency key is missing). Held.</summary>
    InvalidJournalEntry = 10,
}

/// <summary>What a plan does about a discrepancy.</summary>
public enum ReconciliationAction
{
    /// <summary>Send the journaled posting again with its idempotency key.</summary>
    Replay = 0,

    /// <summary>Post reversing entries for <see cref="Discrepancy.ToReverse"/>.</summary>
    Compensate = 1,

    /// <summary>Record in the journal that the ERP holds the posting.</summary>
    Acknowledge = 2,

    /// <summary>Do nothing; a person must decide (see <see cref="Discrepancy.Reason"/>).</summary>
    Hold = 3,
}

/// <summary>One discrepancy, with what the plan does about it and why.</summary>
/// <param name="Class">The class.</param>
/// <param name="Action">The planned action.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Kind">The posting kind.</param>
/// <param name="BusinessKey">The business key.</param>
/// <param name="Journal">The journal entry, when there is one.</param>
/// <param name="Downstream">What the ERP holds for the key (live records; reversed ones and reversals left out).</param>
/// <param name="ToReverse">The records a <see cref="ReconciliationAction.Compensate"/> reverses.</param>
/// <param name="Reason">Why, in words.</param>
public sealed record Discrepancy(
    DiscrepancyClass Class,
    ReconciliationAction Action,
    string TenantId,
    string Kind,
    string BusinessKey,
    JournalEntry? Journal,
    IReadOnlyList<ErpRecord> Downstream,
    IReadOnlyList<ErpRecord> ToReverse,
    string Reason)
{
    /// <summary>Gets the amount at stake: the journaled amount, or the first downstream amount.</summary>
    public Money? Amount => Journal?.Amount ?? (Downstream.Count > 0 ? Downstream[0].Amount : null);
}

/// <summary>What to reconcile: tenants, a range of posting dates, and optionally one release version and one kind.</summary>
public sealed class ReconciliationScope
{
    /// <summary>Creates a scope.</summary>
    /// <param name="from">The first posting date (inclusive).</param>
    /// <param name="to">The end of the range (exclusive).</param>
    /// <param name="tenantIds">The tenants; every tenant with journaled postings when <see langword="null"/> or empty.</param>
    /// <param name="releaseVersion">Only postings of this release version (orphans downstream are always reported); all when <see langword="null"/>.</param>
    /// <param name="kind">Only this kind; all when <see langword="null"/>.</param>
    public ReconciliationScope(DateTimeOffset from, DateTimeOffset to, IEnumerable<string>? tenantIds = null, string? releaseVersion = null, PostingKind? kind = null)
    {
        if (to <= from)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, string.Create(CultureInfo.InvariantCulture, $"The scope's end {to:O} must be after its start {from:O}."));
        }

        if (releaseVersion is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(releaseVersion);
        }

        var tenants = tenantIds?.ToArray() ?? [];
        foreach (var tenant in tenants)
        {
            PostingKeys.Validate(tenant, nameof(tenantIds), "tenant id");
        }

        if (kind is { } k)
        {
            PostingKeys.Validate(k.Value, nameof(kind), "posting kind");
        }

        From = from.ToUniversalTime();
        To = to.ToUniversalTime();
        TenantIds = [.. tenants.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        ReleaseVersion = releaseVersion;
        Kind = kind;
    }

    /// <summary>Gets the first posting date (inclusive, UTC).</summary>
    public DateTimeOffset From { get; }

    /// <summary>Gets the end of the range (exclusive, UTC).</summary>
    public DateTimeOffset To { get; }

    /// <summary>Gets the tenants, in ordinal order; empty for every tenant with journaled postings.</summary>
    public IReadOnlyList<string> TenantIds { get; }

    /// <summary>Gets the release version filter.</summary>
    public string? ReleaseVersion { get; }

    /// <summary>Gets the kind filter.</summary>
    public PostingKind? Kind { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"tenants {(TenantIds.Count == 0 ? "(all)" : string.Join(", ", TenantIds))}, {From:O} to {To:O}")
        + (ReleaseVersion is null ? string.Empty : $", release {ReleaseVersion}")
        + (Kind is { } k ? $", kind {k}" : string.Empty);
}

/// <summary>
/// The streaming sorted merge of a tenant's journal rows and ERP records. Both sides arrive ordered by kind and business
/// key; only the records of one business key are held at a time, so memory does not grow with the range.
/// </summary>
/// <remarks>
/// The journal is read page by page while the ERP is read, so a posting journaled and sent during the diff can reach the
/// ERP side without being in the pages already read. A record without a journal row is therefore looked up again (a point
/// read after the ERP returned it; journaling precedes sending, so the row is committed by then) before it is called an orphan.
/// </remarks>
internal static class DiffEngine
{
    public static async IAsyncEnumerable<Discrepancy> DiffAsync(
        string tenantId,
        IAsyncEnumerable<JournalRow> journal,
        IAsyncEnumerable<ErpRecord> erp,
        ReconciliationScope scope,
        DateTimeOffset now,
        Func<string, string, CancellationToken, Task<JournalRow?>>? lookUp,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var downstream = new ErpCursor(tenantId, erp, scope, cancellationToken);
        await using (downstream.ConfigureAwait(false))
        {
            await downstream.MoveAsync().ConfigureAwait(false);
            string? lastKind = null;
            string? lastKey = null;
            await foreach (var row in journal.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (lastKind is not null && PostingKeys.Compare(lastKind, lastKey!, row.Kind, row.BusinessKey) >= 0)
                {
                    throw new InvalidDataException($"The journal of tenant '{tenantId}' returned {row.Kind}/{row.BusinessKey} after {lastKind}/{lastKey}: rows out of order or repeated.");
                }

                lastKind = row.Kind;
                lastKey = row.BusinessKey;

                // ERP groups before this journal key are orphans.
                while (downstream.Current is { } head && PostingKeys.Compare(head.Kind.Value, head.BusinessKey, row.Kind, row.BusinessKey) < 0)
                {
                    var orphans = await downstream.TakeGroupAsync().ConfigureAwait(false);
                    if (await ClassifyUnmatchedAsync(tenantId, orphans, scope, now, lookUp, cancellationToken).ConfigureAwait(false) is { } orphan)
                    {
                        yield return orphan;
                    }
                }

                IReadOnlyList<ErpRecord> group = downstream.Current is { } same && PostingKeys.Compare(same.Kind.Value, same.BusinessKey, row.Kind, row.BusinessKey) == 0
                    ? await downstream.TakeGroupAsync().ConfigureAwait(false)
                    : [];
                if (scope.ReleaseVersion is not null && row.Entry is { } e && !string.Equals(e.ReleaseVersion, scope.ReleaseVersion, StringComparison.Ordinal))
                {
                    continue;
                }

                if (Classify(tenantId, row, group, now) is { } found)
                {
                    yield return found;
                }
            }

            while (downstream.Current is not null)
            {
                var orphans = await downstream.TakeGroupAsync().ConfigureAwait(false);
                if (await ClassifyUnmatchedAsync(tenantId, orphans, scope, now, lookUp, cancellationToken).ConfigureAwait(false) is { } orphan)
                {
                    yield return orphan;
                }
            }
        }
    }

    private static async Task<Discrepancy?> ClassifyUnmatchedAsync(
        string tenantId, IReadOnlyList<ErpRecord> group, ReconciliationScope scope, DateTimeOffset now, Func<string, string, CancellationToken, Task<JournalRow?>>? lookUp, CancellationToken cancellationToken)
    {
        if (lookUp is null || Live(group).Count == 0)
        {
            return Classify(tenantId, null, group, now);
        }

        var late = await lookUp(group[0].Kind.Value, group[0].BusinessKey, cancellationToken).ConfigureAwait(false);
        if (late is null)
        {
            return Classify(tenantId, null, group, now);
        }

        // Journaled after the scan passed its key: classify it as if the scan had seen it.
        return scope.ReleaseVersion is not null && late.Entry is { } e && !string.Equals(e.ReleaseVersion, scope.ReleaseVersion, StringComparison.Ordinal)
            ? null
            : Classify(tenantId, late, group, now);
    }

    internal static Discrepancy? Classify(string tenantId, JournalRow? row, IReadOnlyList<ErpRecord> all, DateTimeOffset now)
    {
        // The common case, a posting the ERP holds exactly as journaled, allocates nothing.
        if (row?.Entry is { Status: PostingStatus.Acknowledged } ok && all.Count == 1 && all[0] is { Reverses: null } only
            && string.Equals(only.IdempotencyKey, ok.IdempotencyKey, StringComparison.Ordinal)
            && string.Equals(only.PayloadFingerprint, ok.PayloadFingerprint, StringComparison.Ordinal)
            && only.Amount == ok.Amount && only.OccurredAt == ok.OccurredAt && only.Kind == ok.Kind)
        {
            return null;
        }

        var kind = row?.Kind ?? all[0].Kind.Value;
        var key = row?.BusinessKey ?? all[0].BusinessKey;
        var live = Live(all);
        Discrepancy Make(DiscrepancyClass c, ReconciliationAction a, string reason, IReadOnlyList<ErpRecord>? reverse = null) =>
            new(c, a, tenantId, kind, key, row?.Entry, live, reverse ?? [], reason);

        if (row is { Entry: null })
        {
            return Make(DiscrepancyClass.InvalidJournalEntry, ReconciliationAction.Hold, row.Problem!);
        }

        if (row?.Entry is not { } j)
        {
            return live.Count == 0
                ? null
                : Make(DiscrepancyClass.OrphanDownstream, ReconciliationAction.Hold, $"The ERP holds {Refs(live)} for {kind} '{key}', which the journal does not know; a person must decide whether to keep or reverse it.");
        }

        if (j.Status == PostingStatus.Compensated)
        {
            return live.Count == 0
                ? null
                : Make(DiscrepancyClass.CompensationOutstanding, ReconciliationAction.Compensate, $"The posting was cancelled ({j.LastError}); reversing {Refs(live)}.", live);
        }

        var stale = j.Status == PostingStatus.InFlight && j.LeaseUntil is { } until && until < now;
        if (j.Status == PostingStatus.InFlight && !stale)
        {
            return null; // being sent right now by its owner
        }

        ErpRecord? match = null;
        List<ErpRecord>? others = null;
        foreach (var record in live)
        {
            if (string.Equals(record.IdempotencyKey, j.IdempotencyKey, StringComparison.Ordinal) && match is null)
            {
                match = record;
            }
            else
            {
                (others ??= []).Add(record);
            }
        }

        if (match is not null)
        {
            if (!string.Equals(match.PayloadFingerprint, j.PayloadFingerprint, StringComparison.Ordinal))
            {
                return Make(DiscrepancyClass.KeyReusedWithDifferentPayload, ReconciliationAction.Hold, $"The ERP holds idempotency key {j.IdempotencyKey} ({match.ErpReference}) with payload {Short(match.PayloadFingerprint)}, the journal has {Short(j.PayloadFingerprint)}.");
            }

            if (match.Amount != j.Amount)
            {
                return Make(DiscrepancyClass.AmountMismatch, ReconciliationAction.Hold, $"The ERP holds {match.ErpReference} with {match.Amount}, the journal has {j.Amount}.");
            }

            if (match.OccurredAt != j.OccurredAt || match.Kind != j.Kind)
            {
                return Make(DiscrepancyClass.FieldMismatch, ReconciliationAction.Hold, string.Create(CultureInfo.InvariantCulture, $"The ERP holds {match.ErpReference} dated {match.OccurredAt:O}, the journal has {j.OccurredAt:O}."));
            }

            if (others is not null)
            {
                return Make(DiscrepancyClass.DuplicateDownstream, ReconciliationAction.Compensate, $"The ERP holds the posting as {match.ErpReference} and again as {Refs(others)} under other idempotency keys; reversing the copies.", others);
            }

            return j.Status switch
            {
                PostingStatus.Acknowledged => null,
                PostingStatus.InFlight => Make(DiscrepancyClass.StaleInFlight, ReconciliationAction.Acknowledge, $"The worker '{j.Owner}' lost its lease after the ERP accepted the posting as {match.ErpReference}; recording the acknowledgement."),
                _ => Make(DiscrepancyClass.Unacknowledged, ReconciliationAction.Acknowledge, $"The ERP holds the posting as {match.ErpReference} but the journal says {j.Status}; recording the acknowledgement."),
            };
        }

        if (others is not null)
        {
            return others.Count == 1 && others[0].Amount == j.Amount && others[0].PayloadFingerprint == j.PayloadFingerprint
                ? Make(DiscrepancyClass.FieldMismatch, ReconciliationAction.Hold, $"The ERP holds the posting as {others[0].ErpReference} under idempotency key {others[0].IdempotencyKey}, not the journaled {j.IdempotencyKey}.")
                : Make(DiscrepancyClass.DuplicateDownstream, ReconciliationAction.Hold, $"The ERP holds {Refs(others)} for the key, none under the journaled idempotency key {j.IdempotencyKey}; a person must decide which to keep.");
        }

        return j.Status switch
        {
            PostingStatus.Failed => Make(DiscrepancyClass.Rejected, ReconciliationAction.Hold, $"The ERP rejected the posting: {j.LastError}"),
            PostingStatus.InFlight => Make(DiscrepancyClass.StaleInFlight, ReconciliationAction.Replay, string.Create(CultureInfo.InvariantCulture, $"The worker '{j.Owner}' lost its lease at {j.LeaseUntil:O} and the ERP does not hold the posting; replaying with key {j.IdempotencyKey}.")),
            PostingStatus.Acknowledged => Make(DiscrepancyClass.MissingDownstream, ReconciliationAction.Replay, $"The journal says acknowledged ({j.ErpReference}) but the ERP does not hold the posting; replaying with key {j.IdempotencyKey}."),
            _ => Make(DiscrepancyClass.MissingDownstream, ReconciliationAction.Replay, $"The ERP does not hold the posting; replaying with key {j.IdempotencyKey}."),
        };
    }

    private static List<ErpRecord> Live(IReadOnlyList<ErpRecord> all)
    {
        if (all.Count == 0)
        {
            return [];
        }

        HashSet<string>? reversed = null;
        foreach (var record in all)
        {
            if (record.Reverses is { } target)
            {
                (reversed ??= new(StringComparer.Ordinal)).Add(target);
            }
        }

        var live = new List<ErpRecord>(all.Count);
        foreach (var record in all)
        {
            if (record.Reverses is null && (reversed is null || !reversed.Contains(record.ErpReference)))
            {
                live.Add(record);
            }
        }

        return live;
    }

    private static string Refs(IReadOnlyList<ErpRecord> records) => string.Join(", ", records.Select(r => r.ErpReference));

    private static string Short(string fingerprint) => fingerprint.Length > 12 ? fingerprint[..12] : fingerprint;

    /// <summary>Reads ERP records one key group at a time and checks the gateway's contract as it goes.</summary>
    private sealed class ErpCursor(string tenantId, IAsyncEnumerable<ErpRecord> source, ReconciliationScope scope, CancellationToken cancellationToken) : IAsyncDisposable
    {
        private readonly IAsyncEnumerator<ErpRecord> _enumerator = source.GetAsyncEnumerator(cancellationToken);
        private readonly List<ErpRecord> _group = new(4);
        private ErpRecord? _previous;
        private long _count;

        public ErpRecord? Current { get; private set; }

        public async ValueTask MoveAsync()
        {
            while (await _enumerator.MoveNextAsync().ConfigureAwait(false))
            {
                var record = _enumerator.Current ?? throw new ErpGatewayException($"The ERP gateway returned a null record for tenant '{tenantId}' at position {_count}.");
                _count++;
                if (!string.Equals(record.TenantId, tenantId, StringComparison.Ordinal))
                {
                    throw new ErpGatewayException($"The ERP gateway returned record {record.ErpReference} of tenant '{record.TenantId}' while reading tenant '{tenantId}'; a gateway must never return another tenant's records.");
                }

                if (record.OccurredAt < scope.From || record.OccurredAt >= scope.To)
                {
                    throw new ErpGatewayException(string.Create(CultureInfo.InvariantCulture, $"The ERP gateway returned record {record.ErpReference} of tenant '{tenantId}' dated {record.OccurredAt:O}, outside the requested range {scope.From:O} to {scope.To:O}."));
                }

                if (_previous is { } p)
                {
                    var order = PostingKeys.Compare(p.Kind.Value, p.BusinessKey, record.Kind.Value, record.BusinessKey);
                    if (order > 0)
                    {
                        throw new ErpGatewayException($"The ERP gateway returned {record.Kind}/{record.BusinessKey} ({record.ErpReference}) after {p.Kind}/{p.BusinessKey} ({p.ErpReference}) for tenant '{tenantId}': pages out of order (records must come ordered by kind, then business key, ordinal).");
                    }

                    if (order == 0 && string.Equals(p.ErpReference, record.ErpReference, StringComparison.Ordinal))
                    {
                        throw new ErpGatewayException($"The ERP gateway returned record {record.ErpReference} of tenant '{tenantId}' twice: pages overlap.");
                    }
                }

                _previous = record;
                if (scope.Kind is { } kind && record.Kind != kind)
                {
                    continue;
                }

                Current = record;
                return;
            }

            Current = null;
        }

        /// <summary>Takes the records of the current key. The list is reused by the next call: classify it before moving on.</summary>
        public async ValueTask<IReadOnlyList<ErpRecord>> TakeGroupAsync()
        {
            var head = Current!;
            var group = _group;
            group.Clear();
            group.Add(head);
            await MoveAsync().ConfigureAwait(false);
            while (Current is { } next && next.Kind == head.Kind && string.Equals(next.BusinessKey, head.BusinessKey, StringComparison.Ordinal))
            {
                if (group.Exists(r => string.Equals(r.ErpReference, next.ErpReference, StringComparison.Ordinal)))
                {
                    throw new ErpGatewayException($"The ERP gateway returned record {next.ErpReference} of tenant '{tenantId}' twice: pages overlap.");
                }

                group.Add(next);
                await MoveAsync().ConfigureAwait(false);
            }

            return group;
        }

        public ValueTask DisposeAsync() => _enumerator.DisposeAsync();
    }
}
