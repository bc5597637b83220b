using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReleaseKit.Gates.Internal;

/// <summary>The package's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>ReleaseKit.Gates</c>.</summary>
internal static class GatesTelemetry
{
    public const string Name = "ReleaseKit.Gates";

    public static readonly string Version = typeof(GatesTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static readonly ActivitySource ActivitySource = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    public static readonly Counter<long> Evaluations = Meter.CreateCounter<long>(
        "releasekit.gate.evaluations", unit: "{evaluation}", description: "Gate evaluations, by gate, stage and verdict.");

    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "releasekit.gate.duration", unit: "s", description: "How long a gate evaluation took.");
}
