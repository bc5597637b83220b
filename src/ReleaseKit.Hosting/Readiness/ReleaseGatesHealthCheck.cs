using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReleaseKit.Gates;
using ReleaseKit.Hosting.Internal;

namespace ReleaseKit.Hosting.Readiness;

/// <summary>
/// A readiness check that runs the <see cref="GateStage.Startup"/> gates (for example ReleaseKit.Migrations'
/// <c>schema-compatibility</c> gate): Pass → Healthy, Warn → Degraded, Inconclusive or Fail → Unhealthy (fail closed), and
/// Unhealthy when the manifest cannot be read or no startup gate is registered.
/// </summary>
internal sealed class ReleaseGatesHealthCheck(IServiceProvider services, IReleaseGateRunner runner, ILogger<ReleaseGatesHealthCheck>? logger = null) : IHealthCheck
{
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReleaseManifest manifest;
        try
        {
            manifest = await HostingContext.ReadConfiguredManifestAsync(services, cancellationToken).ConfigureAwait(false);
        }
        catch (ReleaseManifestException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The release manifest cannot be read: {ex.Message}");
        }

        var environment = HostingContext.EnvironmentName(services, null);
        if (environment is null)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "No environment name: set ReleaseKitHostingOptions.EnvironmentName or the host environment.");
        }

        GateReport report;
        try
        {
            report = await runner.RunAsync(new GateRunRequest { Manifest = manifest, EnvironmentName = environment, Stages = [GateStage.Startup] }, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The startup gates cannot run: {ex.Message}");
        }

        var counted = report.Entries.Count(e => e.CountsTowardVerdict);
        if (counted == 0)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "No startup-stage gate is registered, so readiness cannot be decided: register one (for example AddGates(g => g.AddMigrationGates())) or remove AddReleaseKitReadiness().");
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["releaseId"] = manifest.ReleaseId,
            ["version"] = manifest.Version,
            ["verdict"] = report.Verdict.ToWireName(),
        };
        foreach (var entry in report.Entries)
        {
            data["gate:" + entry.Name] = entry.Verdict.ToWireName();
        }

        var status = report.Verdict switch
        {
            Verdict.Pass => HealthStatus.Healthy,
            Verdict.Warn => HealthStatus.Degraded,
            _ => context.Registration.FailureStatus,
        };
        if (status != HealthStatus.Healthy)
        {
            Log.ReadinessGatesFailed(_logger, report.Verdict.ToWireName(), report.Summary);
        }

        // Gate names and verdicts only: reasons may carry data a probe endpoint should not show.
        var notPassing = report.Entries.Where(e => e.CountsTowardVerdict && e.Verdict != Verdict.Pass).Select(e => $"{e.Name} ({e.Verdict.ToWireName()})").ToArray();
        var description = notPassing.Length == 0 ? report.Summary : $"{report.Summary} Not passing: {string.Join(", ", notPassing)}.";
        return new HealthCheckResult(status, description, data: data);
    }
}
