using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReleaseKit.Hosting.Internal;

/// <summary>The package's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>ReleaseKit.Hosting</c>.</summary>
internal static class HostingTelemetry
{
    public const string Name = "ReleaseKit.Hosting";

    public const string ReleaseInfoInstrument = "releasekit.release.info";

    public const string DeployActivityName = "releasekit.deploy";

    public const string DeployedEventName = "releasekit.release.deployed";

    public static readonly string Version = typeof(HostingTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static readonly ActivitySource ActivitySource = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    // One gauge for the process; each running deployment marker adds its release while it runs.
    private static readonly ConcurrentDictionary<object, KeyValuePair<string, object?>[]> Releases = new();

    public static readonly ObservableGauge<int> ReleaseInfo = Meter.CreateObservableGauge(
        ReleaseInfoInstrument,
        ObserveReleases,
        unit: "{release}",
        description: "1 for each release running in this process, tagged with its version, commit, release id and migration version.");

    public static void AddRelease(object owner, KeyValuePair<string, object?>[] tags) => Releases[owner] = tags;

    public static void RemoveRelease(object owner) => Releases.TryRemove(owner, out _);

    private static IEnumerable<Measurement<int>> ObserveReleases()
    {
        foreach (var tags in Releases.Values)
        {
            yield return new Measurement<int>(1, tags);
        }
    }
}
