using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReleaseKit.TenantContext.Internal;

/// <summary>The package's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>ReleaseKit.TenantContext</c>.</summary>
internal static class TenantTelemetry
{
    public const string Name = "ReleaseKit.TenantContext";

    public static readonly string Version = typeof(TenantTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static readonly ActivitySource ActivitySource = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    public static readonly Counter<long> Resolutions = Meter.CreateCounter<long>(
        "releasekit.tenant.resolutions", unit: "{resolution}", description: "Tenant resolutions that consulted the store (cache misses), by source and outcome.");

    public static readonly Counter<long> IsolationViolations = Meter.CreateCounter<long>(
        "releasekit.tenant.isolation_violations", unit: "{violation}", description: "Rows of another tenant caught by the isolation guard.");
}

/// <summary>Tag names of this package's activities and metrics (the tenant id is <see cref="ReleaseKit.Gates.TelemetryTags.TenantId"/>).</summary>
internal static class TenantTelemetryTags
{
    public const string Source = "releasekit.tenant.source";

    public const string Outcome = "releasekit.tenant.outcome";
}
