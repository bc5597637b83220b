using System.Globalization;
using System.Runtime.CompilerServices;

namespace ReleaseKit.Reconciliation;

/// <summary>A fault <see cref="InMemoryErp"/> injects into the next post of a business key.</summary>
public enum ErpFault
{
    /// <summary>Accept the posting, then throw <see cref="TimeoutException"/> (the caller does not learn it was accepted).</summary>
    TimeoutAfterAccept = 0,

    /// <summary>Reject the posting definitively.</summary>
    Reject = 1,

    /// <summary>Accept the posting and a second copy under a new idempotency key (a duplicate downstream).</summary>
    AcceptDuplicate = 2,

    /// <summary>Answer <see cref="ErpPostOutcome.Transient"/> without accepting.</summary>
    Transient = 3,

    /// <summary>Accept the posting, then throw <see cref="InMemoryErpCrashException"/>: the worker dies between send and acknowledge.</summary>
    CrashAfterAccept = 4,

    /// <summary>Throw <see cref="InMemoryErpCrashException"/> without accepting: the worker dies before the send.</summary>
    CrashBeforeSend = 5,

    /// <summary>Wait until <see cref="InMemoryErp.ReleaseStalled"/> is called, then accept (a worker paused long enough to lose its lease).</summary>
    Stall = 6,
}

/// <summary>
/// Thrown by <see cref="InMemoryErp"/> to simulate the calling worker's crash. Never retried; the <see cref="Reconciler"/>
/// treats it as its process dying and writes nothing more (no acknowledgement, no give-back, no tenant release), so that
/// tests exercise the recovery from leases that expire.
/// </summary>
public sealed class InMemoryErpCrashException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InMemoryErpCrashException()
        : base("Simulated worker crash.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public InMemoryErpCrashException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public InMemoryErpCrashException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// An ERP in memory, for tests and samples: idempotent per tenant and idempotency key, read back in key order in pages,
/// with faults injected per business key (<see cref="InjectFault"/>). Thread-safe.
/// </summary>
public sealed class InMemoryErp : IErpGateway, IErpTenantDirectory
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<ErpRecord>> _byTenant = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Tenant, string Key), ErpRecord> _byKey = [];
    private readonly Dictionary<(string Tenant, string BusinessKey), Queue<ErpFault>> _faults = [];
    private readonly Dictionary<(string Tenant, string Key), int> _accepted = [];
    private TaskCompletionSource _stall = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sequence;
    private long _posts;

    /// <summary>Gets or sets how many records <see cref="ReadAsync"/> returns per page (default 500).</summary>
    public int PageSize
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 500;

    /// <summary>Gets how many times <see cref="PostAsync"/> was called.</summary>
    public long PostCount => Interlocked.Read(ref _posts);

    /// <summary>
    /// Counts the posts with an idempotency key that reached the ERP's books: the one that created the record and every later
    /// one answered <see cref="ErpPostOutcome.DuplicateAccepted"/>. More than one means the key was sent again after the ERP
    /// had it (harmless here, a second copy in an ERP that does not deduplicate), so a test can see a double send.
    /// </summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="idempotencyKey">The idempotency key.</param>
    /// <returns>The count; 0 when the key was never accepted.</returns>
    public int AcceptedPostCount(string tenantId, string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        lock (_lock)
        {
            return _accepted.GetValueOrDefault((tenantId, idempotencyKey));
        }
    }

    /// <summary>Queues a fault for the next post of a business key (faults queued for one key are used in order, one per post).</summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="businessKey">The business key.</param>
    /// <param name="fault">The fault.</param>
    public void InjectFault(string tenantId, string businessKey, ErpFault fault)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        ArgumentNullException.ThrowIfNull(businessKey);
        if (!Enum.IsDefined(fault))
        {
            throw new ArgumentOutOfRangeException(nameof(fault), fault, "Unknown ERP fault.");
        }

        lock (_lock)
        {
            if (!_faults.TryGetValue((tenantId, businessKey), out var queue))
            {
                _faults[(tenantId, businessKey)] = queue = new Queue<ErpFault>();
            }

            queue.Enqueue(fault);
        }
    }

    /// <summary>Lets every post stalled by <see cref="ErpFault.Stall"/> continue.</summary>
    public void ReleaseStalled()
    {
        TaskCompletionSource stall;
        lock (_lock)
        {
            stall = _stall;
            _stall = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        stall.TrySetResult();
    }

    /// <summary>Adds a record directly, as if someone had posted it by hand (for orphan and mismatch scenarios).</summary>
    /// <param name="record">The record.</param>
    public void Seed(ErpRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_lock)
        {
            Add(record);
        }
    }

    /// <summary>Returns every record of a tenant (or of all tenants), in key order.</summary>
    /// <param name="tenantId">The tenant, or <see langword="null"/> for all.</param>
    /// <returns>The records.</returns>
    public IReadOnlyList<ErpRecord> Snapshot(string? tenantId = null)
    {
        lock (_lock)
        {
            var all = tenantId is null ? _byTenant.Values.SelectMany(r => r) : _byTenant.GetValueOrDefault(tenantId) ?? [];
            return [.. all.Order(RecordOrder.Instance)];
        }
    }

    /// <inheritdoc />
    public async ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(posting);
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _posts);
        ErpFault? fault = null;
        Task stall = Task.CompletedTask;
        lock (_lock)
        {
            if (_faults.TryGetValue((posting.TenantId, posting.BusinessKey), out var queue) && queue.TryDequeue(out var next))
            {
                fault = next;
                stall = _stall.Task;
            }
        }

        switch (fault)
        {
            case ErpFault.Reject:
                return ErpPostResult.Rejected($"The ERP rejected {posting.BusinessKey}: period closed (injected).");
            case ErpFault.Transient:
                return ErpPostResult.Transient("503 Service Unavailable (injected).");
            case ErpFault.CrashBeforeSend:
                throw new InMemoryErpCrashException($"Worker crashed before sending {posting.BusinessKey} (injected).");
            case ErpFault.Stall:
                await stall.WaitAsync(cancellationToken).ConfigureAwait(false);
                break;
        }

        ErpPostResult result;
        lock (_lock)
        {
            _accepted[(posting.TenantId, posting.IdempotencyKey)] = _accepted.GetValueOrDefault((posting.TenantId, posting.IdempotencyKey)) + 1;
            if (_byKey.TryGetValue((posting.TenantId, posting.IdempotencyKey), out var existing))
            {
                result = ErpPostResult.DuplicateAccepted(existing.ErpReference);
            }
            else
            {
                var record = Add(posting, posting.IdempotencyKey);
                result = ErpPostResult.Accepted(record.ErpReference);
                if (fault == ErpFault.AcceptDuplicate)
                {
                    Add(posting, "dup-" + Guid.NewGuid().ToString("N"));
                }
            }
        }

        return fault switch
        {
            ErpFault.TimeoutAfterAccept => throw new TimeoutException($"The ERP did not answer for {posting.BusinessKey} (injected; it accepted)."),
            ErpFault.CrashAfterAccept => throw new InMemoryErpCrashException($"Worker crashed after the ERP accepted {posting.BusinessKey} (injected)."),
            _ => result,
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListTenantsAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string[] tenants;
        lock (_lock)
        {
            tenants = [.. _byTenant.Where(t => t.Value.Any(r => r.OccurredAt >= from && r.OccurredAt < to)).Select(t => t.Key).Order(StringComparer.Ordinal)];
        }

        await Task.Yield();
        foreach (var tenant in tenants)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return tenant;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        ErpRecord[] records;
        lock (_lock)
        {
            records = [.. (_byTenant.GetValueOrDefault(tenantId) ?? []).Where(r => r.OccurredAt >= from && r.OccurredAt < to)];
        }

        Array.Sort(records, RecordOrder.Instance);
        for (var start = 0; start < records.Length; start += PageSize)
        {
            // One page per await, like a paged HTTP API.
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            var end = Math.Min(start + PageSize, records.Length);
            for (var i = start; i < end; i++)
            {
                yield return records[i];
            }
        }
    }

    private ErpRecord Add(ErpPosting posting, string idempotencyKey)
    {
        var reference = string.Create(CultureInfo.InvariantCulture, $"ERP-{++_sequence:D9}");
        var record = new ErpRecord(posting.TenantId, posting.Kind, posting.BusinessKey, idempotencyKey, posting.PayloadFingerprint, posting.Amount, posting.OccurredAt, reference, posting.Reverses);
        return Add(record);
    }

    private ErpRecord Add(ErpRecord record)
    {
        if (!_byTenant.TryGetValue(record.TenantId, out var list))
        {
            _byTenant[record.TenantId] = list = [];
        }

        list.Add(record);
        _byKey.TryAdd((record.TenantId, record.IdempotencyKey), record);
        return record;
    }

    private sealed class RecordOrder : IComparer<ErpRecord>
    {
        public static readonly RecordOrder Instance = new();

        public int Compare(ErpRecord? x, ErpRecord? y)
        {
            ArgumentNullException.ThrowIfNull(x);
            ArgumentNullException.ThrowIfNull(y);
            var c = PostingKeys.Compare(x.Kind.Value, x.BusinessKey, y.Kind.Value, y.BusinessKey);
            return c != 0 ? c : string.CompareOrdinal(x.ErpReference, y.ErpReference);
        }
    }
}
