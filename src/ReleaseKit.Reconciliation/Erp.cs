namespace ReleaseKit.Reconciliation;

/// <summary>
/// The application's adapter to its ERP. Reconciliation posts through it with an idempotency key and reads back what
/// the ERP holds to compare it with the journal.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="PostAsync"/> must be idempotent per <see cref="ErpPosting.IdempotencyKey"/>: a second post with a key the
/// ERP already accepted answers <see cref="ErpPostOutcome.DuplicateAccepted"/> and creates nothing. Report a failure
/// that may succeed on retry (timeout, 5xx, throttling) as <see cref="ErpPostResult.Transient(string)"/> or by throwing
/// <see cref="TimeoutException"/> or <see cref="ErpTransientException"/>; a definite refusal (validation, closed period)
/// as <see cref="ErpPostResult.Rejected(string)"/>, which is never retried.
/// </para>
/// <para>
/// <see cref="ReadAsync"/> returns the tenant's records whose posting date is in <c>[from, to)</c>, ordered by kind and
/// then business key (ordinal), one page at a time. Records of another tenant, out of order or outside the range make
/// the reconciliation fail with <see cref="ErpGatewayException"/>.
/// </para>
/// </remarks>
public interface IErpGateway
{
    /// <summary>Posts (or reverses) a posting.</summary>
    /// <param name="posting">The posting, with its idempotency key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What the ERP answered.</returns>
    ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken);

    /// <summary>Reads what the ERP holds for a tenant and a range of posting dates, in kind and business-key order.</summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="from">The first posting date (inclusive).</param>
    /// <param name="to">The end of the range (exclusive).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The records, streamed.</returns>
    IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}

/// <summary>
/// Optionally implemented by an <see cref="IErpGateway"/> whose ERP can say which tenants hold records in a range. When a
/// <see cref="ReconciliationScope"/> names no tenants, the diff covers the tenants in the journal and, with this, the
/// tenants the ERP lists — so an orphan posted by hand in a tenant that never journaled anything is found too.
/// </summary>
public interface IErpTenantDirectory
{
    /// <summary>Lists the tenants that hold records with posting dates in a range (in any order; duplicates are ignored).</summary>
    /// <param name="from">The first posting date (inclusive).</param>
    /// <param name="to">The end of the range (exclusive).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The tenant ids, streamed.</returns>
    IAsyncEnumerable<string> ListTenantsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}

/// <summary>A posting sent to the ERP.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="Kind">The kind.</param>
/// <param name="BusinessKey">The business key.</param>
/// <param name="IdempotencyKey">The idempotency key; the same on every retry.</param>
/// <param name="PayloadFingerprint">The SHA-256 of the canonical payload; the ERP should store it (for example in a reference field) so a diff can compare it.</param>
/// <param name="Payload">The canonical payload.</param>
/// <param name="Amount">The amount.</param>
/// <param name="OccurredAt">The posting date.</param>
/// <param name="Reverses">For a reversing entry, the ERP reference of the record it reverses; otherwise <see langword="null"/>.</param>
public sealed record ErpPosting(
    string TenantId,
    PostingKind Kind,
    string BusinessKey,
    string IdempotencyKey,
    string PayloadFingerprint,
    string Payload,
    Money Amount,
    DateTimeOffset OccurredAt,
    string? Reverses = null);

/// <summary>A record the ERP holds.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="Kind">The kind.</param>
/// <param name="BusinessKey">The business key.</param>
/// <param name="IdempotencyKey">The idempotency key it was posted with.</param>
/// <param name="PayloadFingerprint">The payload fingerprint it was posted with.</param>
/// <param name="Amount">The amount.</param>
/// <param name="OccurredAt">The posting date.</param>
/// <param name="ErpReference">The ERP's own reference (document number), unique in the ERP.</param>
/// <param name="Reverses">For a reversing entry, the reference of the record it reverses.</param>
public sealed record ErpRecord(
    string TenantId,
    PostingKind Kind,
    string BusinessKey,
    string IdempotencyKey,
    string PayloadFingerprint,
    Money Amount,
    DateTimeOffset OccurredAt,
    string ErpReference,
    string? Reverses = null);

/// <summary>What the ERP answered to a post.</summary>
public enum ErpPostOutcome
{
    /// <summary>Accepted and created.</summary>
    Accepted = 0,

    /// <summary>The idempotency key was already accepted; nothing new was created.</summary>
    DuplicateAccepted = 1,

    /// <summary>Refused definitively; retrying will not help.</summary>
    Rejected = 2,

    /// <summary>Failed in a way a retry may fix.</summary>
    Transient = 3,
}

/// <summary>The result of <see cref="IErpGateway.PostAsync"/>.</summary>
public sealed class ErpPostResult
{
    private ErpPostResult(ErpPostOutcome outcome, string? erpReference, string? reason)
    {
        Outcome = outcome;
        ErpReference = erpReference;
        Reason = reason;
    }

    /// <summary>Gets the outcome.</summary>
    public ErpPostOutcome Outcome { get; }

    /// <summary>Gets the ERP's reference when accepted.</summary>
    public string? ErpReference { get; }

    /// <summary>Gets why it was rejected or failed.</summary>
    public string? Reason { get; }

    /// <summary>The ERP accepted the posting.</summary>
    /// <param name="erpReference">The ERP's reference.</param>
    /// <returns>The result.</returns>
    public static ErpPostResult Accepted(string erpReference)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(erpReference);
        return new(ErpPostOutcome.Accepted, erpReference, null);
    }

    /// <summary>The ERP had already accepted this idempotency key.</summary>
    /// <param name="erpReference">The reference of the record it holds.</param>
    /// <returns>The result.</returns>
    public static ErpPostResult DuplicateAccepted(string erpReference)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(erpReference);
        return new(ErpPostOutcome.DuplicateAccepted, erpReference, null);
    }

    /// <summary>The ERP refused the posting definitively.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The result.</returns>
    public static ErpPostResult Rejected(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new(ErpPostOutcome.Rejected, null, reason);
    }

    /// <summary>The post failed in a way a retry may fix.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The result.</returns>
    public static ErpPostResult Transient(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new(ErpPostOutcome.Transient, null, reason);
    }

    /// <inheritdoc />
    public override string ToString() => Reason is null ? $"{Outcome} {ErpReference}" : $"{Outcome}: {Reason}";
}

/// <summary>Thrown by a gateway for a failure a retry may fix.</summary>
public sealed class ErpTransientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ErpTransientException()
        : base("The ERP call failed transiently.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ErpTransientException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ErpTransientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Thrown when a gateway breaks its contract: another tenant's records, records out of order or out of range, or a repeated record.</summary>
public sealed class ErpGatewayException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ErpGatewayException()
        : base("The ERP gateway broke its contract.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ErpGatewayException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ErpGatewayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
