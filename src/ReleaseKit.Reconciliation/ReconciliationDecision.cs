using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ReleaseKit.Reconciliation;

/// <summary>What a person decided about an item the plan held for them.</summary>
public enum ReconciliationDecisionKind
{
    /// <summary>The difference is accepted as it is: the ERP and the journal stay as they are and the item is no longer held.</summary>
    AcceptAsIs = 0,
}

/// <summary>
/// A person's recorded decision about a held discrepancy: who, why, when, and a fingerprint of what they looked at
/// (class, journal entry, ERP records). It resolves the item only while the discrepancy is exactly the one decided on;
/// once it changes (another amount, another ERP record, another payload) the item is held again.
/// </summary>
public sealed class ReconciliationDecision
{
    internal ReconciliationDecision(
        string tenantId, string kind, string businessKey, DiscrepancyClass @class, string fingerprint,
        ReconciliationDecisionKind decision, string decidedBy, string reason, string decidedOn, DateTimeOffset decidedAt)
    {
        TenantId = tenantId;
        Kind = kind;
        BusinessKey = businessKey;
        Class = @class;
        Fingerprint = fingerprint;
        Decision = decision;
        DecidedBy = decidedBy;
        Reason = reason;
        DecidedOn = decidedOn;
        DecidedAt = decidedAt;
    }

    /// <summary>Gets the tenant.</summary>
    public string TenantId { get; }

    /// <summary>Gets the posting kind.</summary>
    public string Kind { get; }

    /// <summary>Gets the business key.</summary>
    public string BusinessKey { get; }

    /// <summary>Gets the class of the discrepancy decided on.</summary>
    public DiscrepancyClass Class { get; }

    /// <summary>Gets the fingerprint (SHA-256, hex) of the discrepancy decided on: its class, the journal entry's key, payload, amount, date, status and error, and every live ERP record's reference, key, payload, amount and date.</summary>
    public string Fingerprint { get; }

    /// <summary>Gets what was decided.</summary>
    public ReconciliationDecisionKind Decision { get; }

    /// <summary>Gets who decided.</summary>
    public string DecidedBy { get; }

    /// <summary>Gets why, in the decider's words.</summary>
    public string Reason { get; }

    /// <summary>Gets the discrepancy's reason when it was decided (what the person was shown).</summary>
    public string DecidedOn { get; }

    /// <summary>Gets when it was decided (UTC, from the reconciler's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset DecidedAt { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Decision} of {TenantId}/{Kind}/{BusinessKey} [{Class}] by {DecidedBy} at {DecidedAt:O}: {Reason}");

    /// <summary>The fingerprint of what a decision about <paramref name="item"/> is about; changes whenever the discrepancy does.</summary>
    internal static string FingerprintOf(Discrepancy item)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? text) => hash.AppendData(Encoding.UTF8.GetBytes((text ?? "\u0002") + "\u0001"));
        Add("v1");
        Add(item.Class.ToString());
        Add(item.TenantId);
        Add(item.Kind);
        Add(item.BusinessKey);
        if (item.Journal is { } j)
        {
            Add(j.IdempotencyKey);
            Add(j.PayloadFingerprint);
            Add(j.Amount.AmountText);
            Add(j.Amount.Currency);
            Add(j.OccurredAt.UtcTicks.ToString(CultureInfo.InvariantCulture));
            Add(j.Status.ToString());
            Add(j.LastError);
        }
        else
        {
            Add(item.Class == DiscrepancyClass.InvalidJournalEntry ? item.Reason : null); // the row's problem is all there is to see
        }

        foreach (var record in item.Downstream.OrderBy(r => r.ErpReference, StringComparer.Ordinal))
        {
            Add(record.ErpReference);
            Add(record.Kind.Value);
            Add(record.IdempotencyKey);
            Add(record.PayloadFingerprint);
            Add(record.Amount.AmountText);
            Add(record.Amount.Currency);
            Add(record.OccurredAt.UtcTicks.ToString(CultureInfo.InvariantCulture));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    internal bool Matches(Discrepancy item, string fingerprint) =>
        Class == item.Class && string.Equals(Fingerprint, fingerprint, StringComparison.Ordinal);

    internal static string Text(ReconciliationDecisionKind decision) => decision switch
    {
        ReconciliationDecisionKind.AcceptAsIs => "accept_as_is",
        _ => throw new ArgumentOutOfRangeException(nameof(decision), decision, "Unknown decision; allowed values are AcceptAsIs."),
    };

    internal static ReconciliationDecisionKind? ParseKind(string text) => text switch
    {
        "accept_as_is" => ReconciliationDecisionKind.AcceptAsIs,
        _ => null,
    };
}

/// <summary>A held discrepancy that a person's matching decision resolves, or whose earlier decision no longer matches.</summary>
public sealed class DecidedDiscrepancy
{
    internal DecidedDiscrepancy(Discrepancy discrepancy, ReconciliationDecision decision)
    {
        Discrepancy = discrepancy;
        Decision = decision;
    }

    /// <summary>Gets the discrepancy as planned now.</summary>
    public Discrepancy Discrepancy { get; }

    /// <summary>Gets the decision.</summary>
    public ReconciliationDecision Decision { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Discrepancy.TenantId}/{Discrepancy.Kind}/{Discrepancy.BusinessKey} [{Discrepancy.Class}]: {Decision}";
}
