using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReleaseKit.HealthCriteria.Internal;

/// <summary>The package's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>ReleaseKit.HealthCriteria</c>.</summary>
internal static class HealthTelemetry
{
    public const string Name = "ReleaseKit.HealthCriteria";

    public static readonly string Version = typeof(HealthTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static readonly ActivitySource ActivitySource = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    public static readonly Counter<long> Evaluations = Meter.CreateCounter<long>(
        "releasekit.health.evaluations", unit: "{evaluation}", description: "Release health evaluations, by window and verdict.");
}
