namespace ReleaseKit.HealthCriteria;

/// <summary>How a signal is aggregated.</summary>
public enum SignalKind
{
    /// <summary>A distribution of values (latency, duration, amounts) kept in a <see cref="QuantileSketch"/>.</summary>
    Distribution = 0,

    /// <summary>A count of events (requests, failed invoice exports, ERP sync errors) summed per window.</summary>
    Counter = 1,

    /// <summary>A sampled level (queue backlog): its samples are kept in a sketch, and the last value is remembered.</summary>
    Gauge = 2,
}

/// <summary>A named signal and how it is aggregated: an SLI, a business indicator or an app-defined signal.</summary>
public sealed class SignalDefinition
{
    /// <summary>Creates a definition.</summary>
    /// <param name="name">The signal's name.</param>
    /// <param name="kind">How it is aggregated.</param>
    /// <param name="unit">Its unit (UCUM, as OpenTelemetry uses: <c>s</c>, <c>{invoice}</c>), if any.</param>
    /// <param name="description">What it measures.</param>
    public SignalDefinition(string name, SignalKind kind, string? unit = null, string? description = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "The kind must be Distribution, Counter or Gauge.");
        }

        Name = name;
        Kind = kind;
        Unit = unit;
        Description = description;
    }

    /// <summary>Gets the signal's name.</summary>
    public string Name { get; }

    /// <summary>Gets how it is aggregated.</summary>
    public SignalKind Kind { get; }

    /// <summary>Gets its unit, if any.</summary>
    public string? Unit { get; }

    /// <summary>Gets what it measures, if said.</summary>
    public string? Description { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Kind})";
}

/// <summary>Service-level indicators: the technical signals most services judge a release on.</summary>
public static class ServiceLevelIndicators
{
    /// <summary>Server request duration in seconds (fed from ASP.NET Core's <c>http.server.request.duration</c> histogram).</summary>
    public static SignalDefinition RequestDuration { get; } = new("http.server.request.duration", SignalKind.Distribution, "s", "Server request duration.");

    /// <summary>Requests served (the denominator of availability and error rate).</summary>
    public static SignalDefinition Requests { get; } = new("releasekit.sli.requests", SignalKind.Counter, "{request}", "Requests served.");

    /// <summary>Requests that failed (server errors): the numerator of the error rate.</summary>
    public static SignalDefinition FailedRequests { get; } = new("releasekit.sli.requests.failed", SignalKind.Counter, "{request}", "Requests that failed.");

    /// <summary>Background jobs started (the denominator of the job completion ratio).</summary>
    public static SignalDefinition JobsStarted { get; } = new("releasekit.sli.jobs.started", SignalKind.Counter, "{job}", "Background jobs started.");

    /// <summary>Background jobs that did not complete.</summary>
    public static SignalDefinition JobsFailed { get; } = new("releasekit.sli.jobs.failed", SignalKind.Counter, "{job}", "Background jobs that did not complete.");
}

/// <summary>Business indicators of a professional-services billing platform. Define your own with <see cref="SignalDefinition"/>.</summary>
public static class BusinessIndicators
{
    /// <summary>Invoice exports attempted (the denominator of the export failure rate).</summary>
    public static SignalDefinition InvoiceExports { get; } = new("billing.invoice_exports", SignalKind.Counter, "{invoice}", "Invoice exports attempted.");

    /// <summary>Invoice exports that failed.</summary>
    public static SignalDefinition FailedInvoiceExports { get; } = new("billing.invoice_exports.failed", SignalKind.Counter, "{invoice}", "Invoice exports that failed.");

    /// <summary>Approvals requested.</summary>
    public static SignalDefinition Approvals { get; } = new("billing.approvals", SignalKind.Counter, "{approval}", "Approvals requested.");

    /// <summary>Approvals not decided within their service level.</summary>
    public static SignalDefinition DelayedApprovals { get; } = new("billing.approvals.delayed", SignalKind.Counter, "{approval}", "Approvals not decided within their service level.");

    /// <summary>ERP synchronisations attempted.</summary>
    public static SignalDefinition ErpSyncs { get; } = new("billing.erp_syncs", SignalKind.Counter, "{sync}", "ERP synchronisations attempted.");

    /// <summary>ERP synchronisations that failed.</summary>
    public static SignalDefinition ErpSyncErrors { get; } = new("billing.erp_syncs.failed", SignalKind.Counter, "{sync}", "ERP synchronisations that failed.");

    /// <summary>Messages waiting in the work queue (sampled).</summary>
    public static SignalDefinition QueueBacklog { get; } = new("billing.queue.backlog", SignalKind.Gauge, "{message}", "Messages waiting in the work queue.");
}
