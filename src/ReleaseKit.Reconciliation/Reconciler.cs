using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using ReleaseKit.Reconciliation.Internal;

namespace ReleaseKit.Reconciliation;

/// <summary>How sending or replaying one posting ended.</summary>
public enum PostingOutcome
{
    /// <summary>The ERP holds it and the journal says so.</summary>
    Acknowledged = 0,

    /// <summary>The ERP rejected it definitively; it is marked failed and will be held.</summary>
    Rejected = 1,

    /// <summary>Transient failures outlasted the retries; it is pending again for the next run.</summary>
    Deferred = 2,

    /// <summary>Another worker holds it or it changed since it was read; nothing was sent.</summary>
    Skipped = 3,

    /// <summary>Another worker took it over while this one was sending; this worker wrote nothing (the idempotency key kept the ERP to one copy).</summary>
    Fenced = 4,
}

/// <summary>Progress of a replay run.</summary>
/// <param name="Processed">Items done so far.</param>
/// <param name="Total">Items in the plan.</param>
/// <param name="CurrentTenantId">The tenant being worked on.</param>
public sealed record ReplayProgress(int Processed, int Total, string CurrentTenantId);

/// <summary>What a replay run did.</summary>
public sealed class ReplayResult
{
    /// <summary>Gets how many postings were replayed and acknowledged.</summary>
    public int Replayed { get; internal set; }

    /// <summary>Gets how many journal acknowledgements were recorded for postings the ERP already held.</summary>
    public int Acknowledged { get; internal set; }

    /// <summary>Gets how many reversing entries were posted.</summary>
    public int Compensated { get; internal set; }

    /// <summary>Gets how many items were held for a person.</summary>
    public int Held { get; internal set; }

    /// <summary>Gets how many postings the ERP rejected.</summary>
    public int Rejected { get; internal set; }

    /// <summary>Gets how many items were deferred after transient failures.</summary>
    public int Deferred { get; internal set; }

    /// <summary>Gets how many items were skipped because they changed or another worker held them, or were fenced off.</summary>
    public int Skipped { get; internal set; }

    /// <summary>Gets how many items were skipped because a checkpoint of the same run showed them done.</summary>
    public int ResumedPast { get; internal set; }

    /// <summary>Gets the tenants another worker held.</summary>
    public IReadOnlyList<string> TenantsBusy => _tenantsBusy;

    internal List<string> _tenantsBusy = [];

    /// <inheritdoc />
    public override string ToString() =>
        $"replayed {Replayed}, acknowledged {Acknowledged}, compensated {Compensated}, held {Held}, rejected {Rejected}, deferred {Deferred}, skipped {Skipped}, resumed past {ResumedPast}, tenants busy {TenantsBusy.Count}";
}

/// <summary>
/// Sends journaled postings, compares the journal with the ERP, plans and executes repairs: replay with the same
/// idempotency key, reversal of duplicates, acknowledgement of what the ERP already holds, hold for a person.
/// </summary>
/// <remarks>
/// Every posting is claimed by a compare-and-set on its journal row that bumps the row's epoch (the fencing token) and
/// sets a lease; a worker writes the outcome only if the epoch is still its own, and checks it before every attempt.
/// Transient failures are retried with Polly; definite rejections never. Replays save checkpoints per run, plan and tenant.
/// </remarks>
public sealed class Reconciler
{
    private readonly PostingJournal _journal;
    private readonly IErpGateway _gateway;
    private readonly ReconciliationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<ErpPostResult> _retry;
    private readonly TokenBucket? _rate;

    /// <summary>Creates a reconciler.</summary>
    /// <param name="journal">The journal.</param>
    /// <param name="gateway">The ERP gateway.</param>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock; the journal's when <see langword="null"/>.</param>
    /// <param name="logger">The logger.</param>
    public Reconciler(PostingJournal journal, IErpGateway gateway, ReconciliationOptions? options = null, TimeProvider? timeProvider = null, ILogger<Reconciler>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(gateway);
        options ??= new ReconciliationOptions();
        var validation = new ReconciliationOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _journal = journal;
        _gateway = gateway;
        _options = options;
        _time = timeProvider ?? journal.TimeProvider;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        WorkerId = options.WorkerId ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _rate = options.MaxPostsPerSecond is { } rate ? new TokenBucket(rate, options.Burst, _time) : null;
        _retry = options.MaxRetryAttempts == 0
            ? ResiliencePipeline<ErpPostResult>.Empty
            : new ResiliencePipelineBuilder<ErpPostResult> { TimeProvider = _time }
                .AddRetry(new RetryStrategyOptions<ErpPostResult>
                {
                    MaxRetryAttempts = options.MaxRetryAttempts,
                    Delay = options.RetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = options.RetryDelay > TimeSpan.Zero,
                    ShouldHandle = new PredicateBuilder<ErpPostResult>()
                        .Handle<TimeoutException>()
                        .Handle<ErpTransientException>()
                        .HandleResult(r => r.Outcome == ErpPostOutcome.Transient),
                })
                .Build();
    }

    /// <summary>Gets this worker's name, written to the journal's owner column while it holds a posting.</summary>
    public string WorkerId { get; }

    /// <summary>
    /// Sends a journaled posting: claims it (compare-and-set on its epoch), posts it with its idempotency key, retrying
    /// transient failures, and records the outcome. Safe to call from several workers: one sends, the others skip.
    /// </summary>
    /// <param name="entry">The entry as journaled (or as last read).</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The outcome.</returns>
    public async Task<PostingOutcome> SendAsync(JournalEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var claimedAt = _time.GetUtcNow();
        var epoch = await _journal.TryClaimAsync(entry, entry.Epoch, WorkerId, _options.LeaseDuration, cancellationToken).ConfigureAwait(false);
        if (epoch is not { } mine)
        {
            return PostingOutcome.Skipped;
        }

        var (outcome, reference) = await SendClaimedAsync(entry, mine, claimedAt, cancellationToken).ConfigureAwait(false);
        if (reference is null)
        {
            return outcome;
        }

        // The ERP holds it: record that even if the caller gives up now.
        return await _journal.TryAcknowledgeAsync(entry, mine, reference, CancellationToken.None).ConfigureAwait(false)
            ? PostingOutcome.Acknowledged
            : Fenced(entry, mine);
    }

    /// <summary>
    /// Posts a claimed entry. Returns the ERP reference when the ERP holds it (the caller records the acknowledgement,
    /// alone or in a batch); otherwise records the rejection or deferral and returns the outcome. Once the ERP answered,
    /// the outcome is written whatever the caller's token says. When the post ends with an exception (cancellation, or
    /// one the gateway does not report as transient), the claim is given back as pending before it propagates, so the
    /// next plan sees the posting at once (as missing, or as unacknowledged if the ERP took it) instead of hiding it
    /// behind a live lease. <see cref="InMemoryErpCrashException"/> simulates the process dying, so nothing is written then.
    /// </summary>
    private async Task<(PostingOutcome Outcome, string? Reference)> SendClaimedAsync(JournalEntry entry, long epoch, DateTimeOffset claimedAt, CancellationToken cancellationToken)
    {
        var posting = new ErpPosting(entry.TenantId, entry.Kind, entry.BusinessKey, entry.IdempotencyKey, entry.PayloadFingerprint, entry.Payload, entry.Amount, entry.OccurredAt);
        ErpPostResult? result;
        try
        {
            result = await PostAsync(posting, entry, epoch, claimedAt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not InMemoryErpCrashException) // a simulated crash: the process is gone and writes nothing
        {
            Log.SendInterrupted(_logger, ex, entry.TenantId, entry.Kind.Value, entry.BusinessKey);
            await _journal.TryEndClaimAsync(entry, epoch, PostingStatus.Pending, $"The send ended with {ex.GetType().Name}: {ex.Message} (the ERP may hold it; the next plan checks).", CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        switch (result?.Outcome)
        {
            case null:
                return (Fenced(entry, epoch), null);
            case ErpPostOutcome.Accepted or ErpPostOutcome.DuplicateAccepted:
                return (PostingOutcome.Acknowledged, result.ErpReference!);
            case ErpPostOutcome.Rejected:
                Log.Rejected(_logger, entry.TenantId, entry.Kind.Value, entry.BusinessKey, result.Reason);
                return (await _journal.TryEndClaimAsync(entry, epoch, PostingStatus.Failed, result.Reason ?? "Rejected by the ERP.", CancellationToken.None).ConfigureAwait(false)
                    ? PostingOutcome.Rejected
                    : Fenced(entry, epoch), null);
            default:
                return (await _journal.TryEndClaimAsync(entry, epoch, PostingStatus.Pending, result.Reason ?? "Transient ERP failure.", CancellationToken.None).ConfigureAwait(false)
                    ? PostingOutcome.Deferred
                    : Fenced(entry, epoch), null);
        }
    }

    private PostingOutcome Fenced(JournalEntry entry, long epoch)
    {
        Log.Fenced(_logger, entry.TenantId, entry.Kind.Value, entry.BusinessKey, epoch);
        return PostingOutcome.Fenced;
    }

    /// <summary>Compares the journal with the ERP for a scope, streaming (a sorted merge per tenant; memory does not grow with the range).</summary>
    /// <param name="scope">The scope.</param>
    /// <param name="cancellationToken">Cancels the diff.</param>
    /// <returns>The discrepancies, by tenant, kind and business key.</returns>
    /// <exception cref="ErpGatewayException">The gateway returned another tenant's records, records out of order, out of range or twice.</exception>
    public async IAsyncEnumerable<Discrepancy> DiffAsync(ReconciliationScope scope, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var tenants = scope.TenantIds.Count > 0 ? scope.TenantIds : await ListTenantsAsync(scope, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        foreach (var tenant in tenants)
        {
            var rows = _journal.ReadRowsAsync(tenant, scope.Kind, scope.From, scope.To, _options.PageSize, cancellationToken);
            var records = _gateway.ReadAsync(tenant, scope.From, scope.To, cancellationToken);
            await foreach (var item in DiffEngine.DiffAsync(tenant, rows, records, scope, now, (kind, key, token) => _journal.FindRowAsync(tenant, kind, key, token), cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
    }

    /// <summary>Every tenant of a scope that names none: the journal's, and the ERP's when the gateway can list them.</summary>
    private async Task<IReadOnlyList<string>> ListTenantsAsync(ReconciliationScope scope, CancellationToken cancellationToken)
    {
        var journaled = await _journal.ListTenantsAsync(cancellationToken).ConfigureAwait(false);
        if (_gateway is not IErpTenantDirectory directory)
        {
            return journaled;
        }

        var all = new SortedSet<string>(journaled, StringComparer.Ordinal);
        await foreach (var tenant in directory.ListTenantsAsync(scope.From, scope.To, cancellationToken).ConfigureAwait(false))
        {
            if (string.IsNullOrWhiteSpace(tenant))
            {
                throw new ErpGatewayException($"The ERP gateway's tenant directory ({_gateway.GetType().Name}) listed a blank tenant id.");
            }

            all.Add(tenant);
        }

        return [.. all];
    }

    /// <summary>Plans the repairs for a scope. Changes nothing: render the plan for a dry run, or pass it to <see cref="ExecuteAsync"/>.</summary>
    /// <param name="scope">The scope.</param>
    /// <param name="cancellationToken">Cancels the diff.</param>
    /// <returns>The plan.</returns>
    public async Task<ReconciliationPlan> PlanAsync(ReconciliationScope scope, CancellationToken cancellationToken = default)
    {
        using var activity = ReconciliationTelemetry.ActivitySource.StartActivity("reconciliation.plan");
        var items = new List<Discrepancy>();
        await foreach (var item in DiffAsync(scope, cancellationToken).ConfigureAwait(false))
        {
            items.Add(item);
            if (ReconciliationTelemetry.Discrepancies.Enabled)
            {
                ReconciliationTelemetry.Discrepancies.Add(1, new KeyValuePair<string, object?>(ReconciliationTags.Class, item.Class.ToString()));
            }
        }

        var (open, decided, reopened) = await ApplyDecisionsAsync(items, cancellationToken).ConfigureAwait(false);
        var plan = new ReconciliationPlan(scope, _time.GetUtcNow(), open, decided, reopened);
        Log.Planned(_logger, scope.ToString(), open.Count, plan.Count(ReconciliationAction.Hold), decided.Count);
        return plan;
    }

    /// <summary>
    /// Takes the held items a person decided out of the plan (a decision with the same class and fingerprint), and marks
    /// the held items whose latest decision no longer matches.
    /// </summary>
    private async Task<(List<Discrepancy> Open, List<DecidedDiscrepancy> Decided, List<DecidedDiscrepancy> Reopened)> ApplyDecisionsAsync(List<Discrepancy> items, CancellationToken cancellationToken)
    {
        var tenants = items.Where(i => i.Action == ReconciliationAction.Hold).Select(i => i.TenantId).Distinct(StringComparer.Ordinal).ToArray();
        if (tenants.Length == 0)
        {
            return (items, [], []);
        }

        var decisions = (await _journal.ReadDecisionsAsync(tenants, cancellationToken).ConfigureAwait(false))
            .ToLookup(d => (d.TenantId, d.Kind, d.BusinessKey));
        var open = new List<Discrepancy>(items.Count);
        var decided = new List<DecidedDiscrepancy>();
        var reopened = new List<DecidedDiscrepancy>();
        foreach (var item in items)
        {
            var made = item.Action == ReconciliationAction.Hold ? decisions[(item.TenantId, item.Kind, item.BusinessKey)].ToList() : [];
            if (made.Count == 0)
            {
                open.Add(item);
                continue;
            }

            var fingerprint = ReconciliationDecision.FingerprintOf(item);
            if (made.FindLast(d => d.Matches(item, fingerprint)) is { } matching)
            {
                decided.Add(new DecidedDiscrepancy(item, matching));
                continue;
            }

            var latest = made.MaxBy(d => d.DecidedAt)!;
            var changed = item with
            {
                Reason = item.Reason + string.Create(CultureInfo.InvariantCulture, $" A previous decision no longer matches: {latest.DecidedBy} accepted it as is at {latest.DecidedAt:O} ({latest.Reason}) when it was {latest.Class}: {latest.DecidedOn} The discrepancy changed since; decide again."),
            };
            open.Add(changed);
            reopened.Add(new DecidedDiscrepancy(changed, latest));
        }

        return (open, decided, reopened);
    }

    /// <summary>
    /// Records that a person decided a held item: accepted as it is. Plans then leave it out (<see cref="ReconciliationPlan.Decided"/>)
    /// while the discrepancy stays exactly as decided on (same class and fingerprint of the journal entry and the ERP
    /// records); if it changes, the item is held again and the plan says the decision no longer matches
    /// (<see cref="ReconciliationPlan.Reopened"/>). Recording the same decision again keeps the first one.
    /// </summary>
    /// <param name="held">A held item of a plan (<see cref="ReconciliationAction.Hold"/>).</param>
    /// <param name="decidedBy">Who decided (a name or an account), not blank.</param>
    /// <param name="reason">Why, not blank.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored decision.</returns>
    /// <exception cref="ArgumentException">The item is not held for a person, or <paramref name="decidedBy"/> or <paramref name="reason"/> is blank.</exception>
    public async Task<ReconciliationDecision> RecordDecisionAsync(Discrepancy held, string decidedBy, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(held);
        ArgumentException.ThrowIfNullOrWhiteSpace(decidedBy);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (held.Action != ReconciliationAction.Hold)
        {
            throw new ArgumentException(
                $"Only items held for a person can be decided: {held.TenantId}/{held.Kind}/{held.BusinessKey} [{held.Class}] is planned to {held.Action.ToString().ToLowerInvariant()}, which the reconciliation does by itself (ExecuteAsync or releasekit reconcile).",
                nameof(held));
        }

        var decision = new ReconciliationDecision(
            held.TenantId, held.Kind, held.BusinessKey, held.Class, ReconciliationDecision.FingerprintOf(held), ReconciliationDecisionKind.AcceptAsIs,
            decidedBy.Trim(), reason.Trim(), held.Reason, _time.GetUtcNow());
        var stored = await _journal.SaveDecisionAsync(decision, cancellationToken).ConfigureAwait(false);
        Log.Decided(_logger, stored.TenantId, stored.Kind, stored.BusinessKey, stored.Class.ToString(), stored.DecidedBy, stored.Reason);
        return stored;
    }

    /// <summary>Lists the recorded decisions, by tenant, kind, business key and time (including those that no longer match).</summary>
    /// <param name="tenantId">Only this tenant's; every tenant's when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The decisions.</returns>
    public Task<IReadOnlyList<ReconciliationDecision>> ListDecisionsAsync(string? tenantId = null, CancellationToken cancellationToken = default) =>
        _journal.ReadDecisionsAsync(tenantId is null ? null : [tenantId], cancellationToken);

    /// <summary>Plans a scope and reports what differs: counts by class, amounts by currency, held items.</summary>
    /// <param name="scope">The scope.</param>
    /// <param name="cancellationToken">Cancels the diff.</param>
    /// <returns>The report.</returns>
    public async Task<ReconciliationReport> ReportAsync(ReconciliationScope scope, CancellationToken cancellationToken = default) =>
        ReconciliationReport.From(await PlanAsync(scope, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Executes a plan, tenant by tenant (each claimed for this worker; on PostgreSQL with <c>FOR UPDATE SKIP LOCKED</c>,
    /// so several workers split the tenants). Saves a checkpoint per <paramref name="runId"/>, plan and tenant every
    /// <see cref="ReconciliationOptions.CheckpointInterval"/> items; executing the same plan with the same run id again
    /// resumes after it. A new plan under the same run id (the next round of plan-and-execute, or a plan per kind) has
    /// checkpoints of its own and skips nothing.
    /// </summary>
    /// <remarks>
    /// When the run is cancelled or a post ends with an exception that is not transient, what the ERP accepted so far is
    /// recorded together with the checkpoint, the postings this worker claimed but did not send are given back as pending,
    /// and the tenant is released before the exception propagates; these writes do not observe the cancellation.
    /// </remarks>
    /// <param name="plan">The plan.</param>
    /// <param name="runId">The run's id: the same id and plan resume a crashed or cancelled run.</param>
    /// <param name="progress">Receives progress after every item.</param>
    /// <param name="cancellationToken">Cancels the run (what is done stays done and is recorded).</param>
    /// <returns>What was done.</returns>
    public async Task<ReplayResult> ExecuteAsync(ReconciliationPlan plan, string runId, IProgress<ReplayProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        using var activity = ReconciliationTelemetry.ActivitySource.StartActivity("reconciliation.replay");
        activity?.SetTag(ReconciliationTags.RunId, runId);
        var result = new ReplayResult();
        var processed = 0;
        foreach (var tenantItems in plan.Items.GroupBy(i => i.TenantId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var tenant = tenantItems.Key;
            var items = tenantItems.OrderBy(i => Position(i), StringComparer.Ordinal).ToList();
            var tenantEpoch = await _journal.TryClaimTenantAsync(tenant, WorkerId, _options.LeaseDuration, cancellationToken).ConfigureAwait(false);
            if (tenantEpoch is not { } held)
            {
                Log.TenantBusy(_logger, runId, tenant);
                result._tenantsBusy.Add(tenant);
                processed += items.Count;
                continue;
            }

            var crashed = false;
            try
            {
                var checkpoint = await _journal.GetCheckpointAsync(runId, plan.Id, tenant, cancellationToken).ConfigureAwait(false);
                if (checkpoint is not null)
                {
                    Log.Resumed(_logger, runId, tenant, checkpoint);
                }

                var lost = false;
                for (var first = 0; first < items.Count && !lost; first += _options.CheckpointInterval)
                {
                    var chunk = items.GetRange(first, Math.Min(_options.CheckpointInterval, items.Count - first));
                    var todo = new List<Discrepancy>(chunk.Count);
                    foreach (var item in chunk)
                    {
                        if (checkpoint is not null && string.CompareOrdinal(Position(item), checkpoint) <= 0)
                        {
                            result.ResumedPast++;
                            progress?.Report(new ReplayProgress(++processed, plan.Items.Count, tenant));
                        }
                        else
                        {
                            todo.Add(item);
                        }
                    }

                    if (todo.Count > 0)
                    {
                        processed = await ExecuteChunkAsync(plan, runId, tenant, todo, result, progress, processed, cancellationToken).ConfigureAwait(false);
                    }

                    lost = !await _journal.TryRenewTenantAsync(tenant, held, _options.LeaseDuration, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (InMemoryErpCrashException)
            {
                crashed = true; // simulates the process dying: it releases nothing
                throw;
            }
            finally
            {
                if (!crashed)
                {
                    await _journal.TryRenewTenantAsync(tenant, held, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Executes one chunk of a tenant: one commit claims its replays, then every item is worked on in key order, then one
    /// commit records the acknowledgements with the checkpoint (the last item finished). On an exception the claims not
    /// yet used are given back and what was finished is still recorded.
    /// </summary>
    private async Task<int> ExecuteChunkAsync(ReconciliationPlan plan, string runId, string tenant, List<Discrepancy> todo, ReplayResult result, IProgress<ReplayProgress>? progress, int processed, CancellationToken cancellationToken)
    {
        var replays = todo.Where(i => i.Action == ReconciliationAction.Replay).ToList();
        var claimedAt = _time.GetUtcNow();
        var claims = replays.Count == 0 ? [] : await _journal.InTransactionAsync(
            async transaction =>
            {
                var epochs = new long?[replays.Count];
                for (var i = 0; i < replays.Count; i++)
                {
                    epochs[i] = await _journal.TryClaimAsync(replays[i].Journal!, replays[i].Journal!.Epoch, WorkerId, _options.LeaseDuration, cancellationToken, transaction).ConfigureAwait(false);
                }

                return epochs;
            },
            cancellationToken).ConfigureAwait(false);
        var acknowledgements = new List<(JournalEntry Entry, long Epoch, string Reference)>();
        var next = 0;
        string? finished = null;
        var crashed = false;
        try
        {
            foreach (var item in todo)
            {
                if (item.Action == ReconciliationAction.Replay)
                {
                    var outcome = PostingOutcome.Skipped;
                    if (claims[next++] is { } epoch)
                    {
                        (outcome, var reference) = await SendClaimedAsync(item.Journal!, epoch, claimedAt, cancellationToken).ConfigureAwait(false);
                        if (reference is not null)
                        {
                            acknowledgements.Add((item.Journal!, epoch, reference));
                        }
                    }

                    _ = outcome switch
                    {
                        PostingOutcome.Acknowledged => 0,
                        PostingOutcome.Rejected => result.Rejected++,
                        PostingOutcome.Deferred => result.Deferred++,
                        _ => result.Skipped++,
                    };
                    Count(item.Action, outcome.ToString());
                }
                else
                {
                    await ExecuteItemAsync(item, result, cancellationToken).ConfigureAwait(false);
                }

                finished = Position(item);
                progress?.Report(new ReplayProgress(++processed, plan.Items.Count, tenant));
            }
        }
        catch (InMemoryErpCrashException)
        {
            crashed = true; // simulates the process dying: it writes nothing more
            throw;
        }
        finally
        {
            if (!crashed)
            {
                await FinishChunkAsync(plan, runId, tenant, replays, claims, next, acknowledgements, finished, result).ConfigureAwait(false);
            }
        }

        return processed;
    }

    /// <summary>Gives back the claims not used, then records the acknowledgements with the checkpoint in one commit (not cancellable).</summary>
    private async Task FinishChunkAsync(ReconciliationPlan plan, string runId, string tenant, List<Discrepancy> replays, long?[] claims, int next, List<(JournalEntry Entry, long Epoch, string Reference)> acknowledgements, string? finished, ReplayResult result)
    {
        // Claimed in this chunk but never sent (the loop stopped early): give them back so that nothing hides behind a lease.
        for (var i = next; i < claims.Length; i++)
        {
            if (claims[i] is { } unsent)
            {
                await _journal.TryEndClaimAsync(replays[i].Journal!, unsent, PostingStatus.Pending, "The replay stopped before sending it.", CancellationToken.None).ConfigureAwait(false);
            }
        }

        // What the ERP accepted is recorded even when the run was cancelled or failed.
        if (acknowledgements.Count > 0 || finished is not null)
        {
            var acknowledged = await _journal.InTransactionAsync(
                async transaction =>
                {
                    var count = 0;
                    foreach (var (entry, epoch, reference) in acknowledgements)
                    {
                        count += await _journal.TryAcknowledgeAsync(entry, epoch, reference, CancellationToken.None, transaction).ConfigureAwait(false) ? 1 : 0;
                    }

                    if (finished is not null)
                    {
                        await _journal.SaveCheckpointAsync(runId, plan.Id, tenant, finished, CancellationToken.None, transaction).ConfigureAwait(false);
                    }

                    return count;
                },
                CancellationToken.None).ConfigureAwait(false);
            result.Replayed += acknowledged;
            result.Skipped += acknowledgements.Count - acknowledged; // fenced off: another worker took them over
        }
    }

    private static string Position(Discrepancy item) => item.Kind + "\u0001" + item.BusinessKey;

    private async Task ExecuteItemAsync(Discrepancy item, ReplayResult result, CancellationToken cancellationToken)
    {
        var outcome = "done";
        switch (item.Action)
        {
            case ReconciliationAction.Hold:
                result.Held++;
                outcome = "held";
                break;
            case ReconciliationAction.Acknowledge:
                var fence = await _journal.TryFenceAsync(item.Journal!, item.Journal!.Epoch, cancellationToken).ConfigureAwait(false);
                if (fence is { } epoch && await _journal.TryAcknowledgeAsync(item.Journal, epoch, item.Downstream[0].ErpReference, CancellationToken.None).ConfigureAwait(false))
                {
                    result.Acknowledged++;
                }
                else
                {
                    result.Skipped++;
                    outcome = "skipped";
                }

                break;
            case ReconciliationAction.Compensate:
                if (item.Journal is { } journal && await _journal.TryFenceAsync(journal, journal.Epoch, cancellationToken).ConfigureAwait(false) is null)
                {
                    result.Skipped++;
                    outcome = "skipped";
                    break;
                }

                foreach (var record in item.ToReverse)
                {
                    var reversal = new ErpPosting(record.TenantId, record.Kind, record.BusinessKey, PostingKeys.ReversalKey(record), record.PayloadFingerprint, string.Empty, record.Amount, record.OccurredAt, record.ErpReference);
                    var posted = await PostAsync(reversal, null, 0, default, cancellationToken).ConfigureAwait(false);
                    _ = posted!.Outcome switch
                    {
                        ErpPostOutcome.Accepted or ErpPostOutcome.DuplicateAccepted => result.Compensated++,
                        ErpPostOutcome.Rejected => result.Rejected++,
                        _ => result.Deferred++,
                    };
                    outcome = posted.Outcome.ToString();
                }

                break;
        }

        Count(item.Action, outcome);
    }

    private static void Count(ReconciliationAction action, string outcome)
    {
        if (ReconciliationTelemetry.Actions.Enabled)
        {
            ReconciliationTelemetry.Actions.Add(
                1,
                new KeyValuePair<string, object?>(ReconciliationTags.Action, action.ToString()),
                new KeyValuePair<string, object?>(ReconciliationTags.Outcome, outcome));
        }
    }

    /// <summary>
    /// Posts with retries for transient failures. For a claimed posting (<paramref name="fenced"/>), every attempt, after
    /// waiting for the rate limit and right before the gateway call, checks the fence: once half the lease has passed since <paramref name="claimedAt"/> (leaving room for clock skew
    /// between workers), it asks the journal whether this worker still holds the epoch. Null when fenced off.
    /// </summary>
    private async Task<ErpPostResult?> PostAsync(ErpPosting posting, JournalEntry? fenced, long epoch, DateTimeOffset claimedAt, CancellationToken cancellationToken)
    {
        var lost = false;
        try
        {
            var result = await _retry.ExecuteAsync(
                async token =>
                {
                    // The token first, then the fence: a wait for the rate limit can outlast the lease.
                    if (_rate is not null)
                    {
                        await _rate.AcquireAsync(token).ConfigureAwait(false);
                    }

                    if (fenced is not null && _time.GetUtcNow() - claimedAt >= _options.LeaseDuration / 2
                        && !await _journal.IsStillOwnerAsync(fenced, epoch, WorkerId, token).ConfigureAwait(false))
                    {
                        lost = true;
                        return ErpPostResult.Rejected("fenced");
                    }

                    return await _gateway.PostAsync(posting, token).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            return lost ? null : result;
        }
        catch (Exception ex) when (ex is TimeoutException or ErpTransientException)
        {
            Debug.Assert(!lost, "A fenced attempt returns before calling the gateway.");
            return ErpPostResult.Transient(ex.Message);
        }
    }
}
