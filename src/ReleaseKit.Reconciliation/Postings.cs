using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ReleaseKit.Reconciliation;

/// <summary>
/// What a posting is: <see cref="InvoiceExport"/>, <see cref="ErpJournalEntry"/>, <see cref="TimeEntrySync"/> or an
/// app-defined kind. A kind is a key (letters, digits, <c>-_.:/#</c>, up to 200 characters) compared ordinally.
/// </summary>
public readonly record struct PostingKind
{
    /// <summary>Creates a kind.</summary>
    /// <param name="value">The kind's name, for example <c>invoice-export</c>.</param>
    public PostingKind(string value)
    {
        PostingKeys.Validate(value, nameof(value), "posting kind");
        Value = value;
    }

    /// <summary>Gets an invoice exported to the ERP.</summary>
    public static PostingKind InvoiceExport { get; } = new("invoice-export");

    /// <summary>Gets a journal entry posted to the ERP's general ledger.</summary>
    public static PostingKind ErpJournalEntry { get; } = new("erp-journal-entry");

    /// <summary>Gets time entries synchronised to the ERP.</summary>
    public static PostingKind TimeEntrySync { get; } = new("time-entry-sync");

    /// <summary>Gets the kind's name.</summary>
    public string Value { get; }

    /// <inheritdoc />
    public override string ToString() => Value ?? string.Empty;
}

/// <summary>An exact amount in an ISO 4217 currency. Negative amounts, unknown currencies and more decimals than the currency has are refused.</summary>
public readonly record struct Money
{
    /// <summary>The largest amount a posting may carry (10^15 - 1 major units).</summary>
    public const decimal MaxAmount = 999_999_999_999_999m;

    /// <summary>Creates an amount.</summary>
    /// <param name="amount">The amount, 0 to <see cref="MaxAmount"/>, with at most the currency's minor-unit decimals.</param>
    /// <param name="currency">The ISO 4217 code, for example <c>EUR</c> (upper case).</param>
    /// <exception cref="ArgumentException">The currency is not an active ISO 4217 code.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The amount is negative, too large or too precise for the currency.</exception>
    public Money(decimal amount, string currency)
    {
        ArgumentNullException.ThrowIfNull(currency);
        if (!Iso4217.TryGetMinorUnits(currency, out var minorUnits))
        {
            throw new ArgumentException($"Currency '{currency}' is not an active ISO 4217 code; use a three-letter upper-case code such as EUR, USD or JPY.", nameof(currency));
        }

        if (amount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, string.Create(CultureInfo.InvariantCulture, $"Amount {amount} {currency} is negative; postings carry non-negative amounts (a reversal is its own posting)."));
        }

        if (amount > MaxAmount)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, string.Create(CultureInfo.InvariantCulture, $"Amount {amount} {currency} is larger than the maximum {MaxAmount}."));
        }

        var normalized = amount / 1.000000000000000000000000000000000m;
        if (normalized.Scale > minorUnits)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, string.Create(CultureInfo.InvariantCulture, $"Amount {amount} {currency} has {normalized.Scale} decimals; {currency} allows at most {minorUnits}."));
        }

        Amount = normalized;
        Currency = currency;
    }

    /// <summary>Gets the amount.</summary>
    public decimal Amount { get; }

    /// <summary>Gets the ISO 4217 currency code.</summary>
    public string Currency { get; }

    /// <summary>Tells whether a code is an active ISO 4217 currency this package accepts.</summary>
    /// <param name="currency">The code.</param>
    /// <returns><see langword="true"/> when it is.</returns>
    public static bool IsKnownCurrency(string? currency) => currency is not null && Iso4217.TryGetMinorUnits(currency, out _);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Amount} {Currency}");

    internal string AmountText => Amount.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Where a journaled posting stands.</summary>
public enum PostingStatus
{
    /// <summary>Journaled, not sent yet.</summary>
    Pending = 0,

    /// <summary>Claimed by a worker (its owner and lease are set) and being sent.</summary>
    InFlight = 1,

    /// <summary>The ERP accepted it.</summary>
    Acknowledged = 2,

    /// <summary>The ERP rejected it definitively; a person must look at it.</summary>
    Failed = 3,

    /// <summary>Cancelled: whatever the ERP holds of it must be reversed.</summary>
    Compensated = 4,
}

/// <summary>A posting to journal before it is sent (see <see cref="PostingJournal.RecordAsync(PostingRequest, System.Data.Common.DbTransaction?, CancellationToken)"/>).</summary>
public sealed class PostingRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="tenantId">The tenant (letters, digits, <c>-_.:/#</c>, up to 200 characters).</param>
    /// <param name="kind">The kind.</param>
    /// <param name="businessKey">The posting's business key, unique per tenant and kind (for example the invoice number).</param>
    /// <param name="amount">The amount and currency.</param>
    /// <param name="payload">The canonical payload (for example JSON with sorted properties); its SHA-256 is the fingerprint.</param>
    /// <param name="releaseVersion">The release version that produced the posting.</param>
    /// <param name="occurredAt">The business date of the posting (the ERP's posting date); reconciliation ranges use it.</param>
    public PostingRequest(string tenantId, PostingKind kind, string businessKey, Money amount, string payload, string releaseVersion, DateTimeOffset occurredAt)
    {
        PostingKeys.Validate(tenantId, nameof(tenantId), "tenant id");
        PostingKeys.Validate(kind.Value, nameof(kind), "posting kind");
        PostingKeys.Validate(businessKey, nameof(businessKey), "business key");
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentException.ThrowIfNullOrWhiteSpace(releaseVersion);
        if (amount.Currency is null)
        {
            throw new ArgumentException("The amount has no currency; create it with new Money(amount, currency).", nameof(amount));
        }

        TenantId = tenantId;
        Kind = kind;
        BusinessKey = businessKey;
        Amount = amount;
        Payload = payload;
        ReleaseVersion = releaseVersion;
        OccurredAt = occurredAt.ToUniversalTime();
    }

    /// <summary>Gets the tenant.</summary>
    public string TenantId { get; }

    /// <summary>Gets the kind.</summary>
    public PostingKind Kind { get; }

    /// <summary>Gets the business key.</summary>
    public string BusinessKey { get; }

    /// <summary>Gets the amount.</summary>
    public Money Amount { get; }

    /// <summary>Gets the canonical payload.</summary>
    public string Payload { get; }

    /// <summary>Gets the release version that produced the posting.</summary>
    public string ReleaseVersion { get; }

    /// <summary>Gets the business date (UTC).</summary>
    public DateTimeOffset OccurredAt { get; }
}

/// <summary>A journaled posting as the journal holds it.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="Kind">The kind.</param>
/// <param name="BusinessKey">The business key.</param>
/// <param name="IdempotencyKey">The idempotency key, generated before the first attempt and sent with every attempt.</param>
/// <param name="PayloadFingerprint">The lower-case hex SHA-256 of the canonical payload.</param>
/// <param name="Payload">The canonical payload.</param>
/// <param name="Amount">The amount.</param>
/// <param name="ReleaseVersion">The release version that produced it.</param>
/// <param name="OccurredAt">The business date.</param>
/// <param name="Status">The status.</param>
/// <param name="Attempts">How many times a worker claimed it to send it.</param>
/// <param name="Owner">The worker holding it while in flight.</param>
/// <param name="LeaseUntil">When the owner's lease expires.</param>
/// <param name="Epoch">The fencing token: incremented by every claim; a write with an older epoch is refused.</param>
/// <param name="LastError">The last error or rejection reason.</param>
/// <param name="ErpReference">The ERP's reference once acknowledged.</param>
/// <param name="CreatedAt">When it was journaled.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record JournalEntry(
    string TenantId,
    PostingKind Kind,
    string BusinessKey,
    string IdempotencyKey,
    string PayloadFingerprint,
    string Payload,
    Money Amount,
    string ReleaseVersion,
    DateTimeOffset OccurredAt,
    PostingStatus Status,
    int Attempts,
    string? Owner,
    DateTimeOffset? LeaseUntil,
    long Epoch,
    string? LastError,
    string? ErpReference,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Key rules shared by tenants, kinds and business keys, so that ordinal order is the same in .NET, SQLite and PostgreSQL.</summary>
internal static class PostingKeys
{
    public const int MaxLength = 200;

    public static void Validate(string? value, string parameterName, string what)
    {
        if (Problem(value) is { } problem)
        {
            throw new ArgumentException($"The {what} '{value}' is invalid: {problem}", parameterName);
        }
    }

    public static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "it is empty.";
        }

        if (value.Length > MaxLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"it has {value.Length} characters; at most {MaxLength} are allowed.");
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/' or '#'))
            {
                return $"character '{c}' is not allowed; use ASCII letters, digits and - _ . : / #.";
            }
        }

        return null;
    }

    public static int Compare(string kindA, string keyA, string kindB, string keyB)
    {
        var c = string.CompareOrdinal(kindA, kindB);
        return c != 0 ? c : string.CompareOrdinal(keyA, keyB);
    }

    public static string Fingerprint(string payload) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(payload)));

    public static string NewIdempotencyKey() => "rk-" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// The idempotency key of the reversal of one ERP record: derived from the record's key and its ERP reference (unique
    /// in the ERP), so two workers reversing the same record post one reversal, and two copies that share a key (an ERP
    /// that does not deduplicate) get one reversal each.
    /// </summary>
    public static string ReversalKey(ErpRecord record) =>
        "rev-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(record.IdempotencyKey + "\n" + record.ErpReference)))[..32];
}

/// <summary>Active ISO 4217 currency codes and their minor units.</summary>
internal static class Iso4217
{
    private const string Codes =
        "AED2 AFN2 ALL2 AMD2 AOA2 ARS2 AUD2 AWG2 AZN2 BAM2 BBD2 BDT2 BHD3 BIF0 BMD2 BND2 BOB2 BRL2 BSD2 BTN2 BWP2 BYN2 BZD2 "
        + "CAD2 CDF2 CHF2 CLF4 CLP0 CNY2 COP2 CRC2 CUP2 CVE2 CZK2 DJF0 DKK2 DOP2 DZD2 EGP2 ERN2 ETB2 EUR2 FJD2 FKP2 GBP2 "
        + "GEL2 GHS2 GIP2 GMD2 GNF0 GTQ2 GYD2 HKD2 HNL2 HTG2 HUF2 IDR2 ILS2 INR2 IQD3 IRR2 ISK0 JMD2 JOD3 JPY0 KES2 KGS2 "
        + "KHR2 KMF0 KPW2 KRW0 KWD3 KYD2 KZT2 LAK2 LBP2 LKR2 LRD2 LSL2 LYD3 MAD2 MDL2 MGA2 MKD2 MMK2 MNT2 MOP2 MRU2 MUR2 "
        + "MVR2 MWK2 MXN2 MYR2 MZN2 NAD2 NGN2 NIO2 NOK2 NPR2 NZD2 OMR3 PAB2 PEN2 PGK2 PHP2 PKR2 PLN2 PYG0 QAR2 RON2 RSD2 "
        + "RUB2 RWF0 SAR2 SBD2 SCR2 SDG2 SEK2 SGD2 SHP2 SLE2 SOS2 SRD2 SSP2 STN2 SVC2 SYP2 SZL2 THB2 TJS2 TMT2 TND3 TOP2 "
        + "TRY2 TTD2 TWD2 TZS2 UAH2 UGX0 USD2 UYI0 UYU2 UYW4 UZS2 VED2 VES2 VND0 VUV0 WST2 XAF0 XCD2 XCG2 XOF0 XPF0 YER2 "
        + "ZAR2 ZMW2 ZWG2";

    private static readonly Dictionary<string, int> MinorUnits = Codes.Split(' ').ToDictionary(c => c[..3], c => c[3] - '0', StringComparer.Ordinal);

    public static bool TryGetMinorUnits(string code, out int minorUnits) => MinorUnits.TryGetValue(code, out minorUnits);
}
