using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReleaseKit.Gates;
using ReleaseKit.Hosting.Internal;
using ReleaseKit.Migrations;

namespace ReleaseKit.Hosting.Readiness;

/// <summary>
/// On startup, marks the deploy: an activity <c>releasekit.deploy</c> with the event <c>releasekit.release.deployed</c>, a
/// log entry (event id 7001), and the <c>releasekit.release.info</c> gauge (value 1) while the host runs, all carrying the
/// release id, version, commit and migration version.
/// </summary>
internal sealed class DeploymentMarkerService(IServiceProvider services, ILogger<DeploymentMarkerService>? logger = null) : IHostedService
{
    private const string Unknown = "unknown";

    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var manifest = await HostingContext.ReadConfiguredManifestAsync(services, cancellationToken).ConfigureAwait(false);
        var environment = HostingContext.EnvironmentName(services, null) ?? Unknown;
        var catalog = services.GetService<MigrationCatalog>();
        var migrationVersion = catalog is { Versions.Count: > 0 } ? catalog.Versions.Max().ToString(CultureInfo.InvariantCulture) : "none";
        var commit = string.IsNullOrWhiteSpace(manifest.Commit) ? Unknown : manifest.Commit;
        KeyValuePair<string, object?>[] tags =
        [
            new(TelemetryTags.ReleaseId, manifest.ReleaseId),
            new(TelemetryTags.ReleaseVersion, manifest.Version),
            new(HostingTelemetryTags.ReleaseCommit, commit),
            new(HostingTelemetryTags.MigrationVersion, migrationVersion),
            new(TelemetryTags.Environment, environment),
        ];

        using (var activity = HostingTelemetry.ActivitySource.StartActivity(HostingTelemetry.DeployActivityName, ActivityKind.Internal))
        {
            if (activity is not null)
            {
                foreach (var tag in tags)
                {
                    activity.SetTag(tag.Key, tag.Value);
                }

                activity.AddEvent(new ActivityEvent(HostingTelemetry.DeployedEventName, tags: new ActivityTagsCollection(tags)));
            }
        }

        Log.ReleaseDeployed(_logger, manifest.ReleaseId, manifest.Version, commit, migrationVersion, environment);
        HostingTelemetry.AddRelease(this, tags);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        HostingTelemetry.RemoveRelease(this);
        return Task.CompletedTask;
    }
}
