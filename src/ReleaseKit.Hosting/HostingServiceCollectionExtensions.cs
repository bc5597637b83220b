using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ReleaseKit.Hosting;
using ReleaseKit.Hosting.Readiness;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ReleaseKit.Hosting: where the manifest is, the deployment marker and the readiness check.</summary>
public static class HostingServiceCollectionExtensions
{
    /// <summary>
    /// Configures where the application's release manifest is and which environment it runs in (validated at startup), and,
    /// when ReleaseKit.HealthCriteria is registered, starts the release health monitor with the host so its windows begin at
    /// the deploy and it captures the instruments from the first request. Calling it again adds configuration; it registers once.
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The ReleaseKit builder.</returns>
    public static IReleaseKitBuilder AddHosting(this IReleaseKitBuilder builder, Action<ReleaseKitHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<ReleaseKitHostingOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseKitHostingOptions>, ReleaseKitHostingOptionsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HealthCaptureService>());
        return builder;
    }

    /// <summary>
    /// Adds the deployment marker: when the host starts it reads the manifest (a missing or invalid manifest stops the start)
    /// and emits the <c>releasekit.release.deployed</c> activity event, a log entry and the <c>releasekit.release.info</c>
    /// gauge, tagged with release id, version, commit and migration version. Registers once.
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <returns>The ReleaseKit builder.</returns>
    public static IReleaseKitBuilder AddDeploymentMarker(this IReleaseKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddHosting();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DeploymentMarkerService>());
        return builder;
    }

    /// <summary>
    /// Adds a readiness check that runs the startup-stage gates (including ReleaseKit.Migrations' <c>schema-compatibility</c>
    /// gate when registered): Pass → Healthy, Warn → Degraded, Inconclusive or Fail → <paramref name="failureStatus"/>.
    /// Adding it twice under the same name registers once.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name. Default <c>releasekit-startup-gates</c>.</param>
    /// <param name="failureStatus">The status when a gate blocks. Default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">The check's tags, for filtering probes. Default <c>ready</c>.</param>
    /// <returns>The health checks builder.</returns>
    public static IHealthChecksBuilder AddReleaseKitReadiness(this IHealthChecksBuilder builder, string name = "releasekit-startup-gates", HealthStatus failureStatus = HealthStatus.Unhealthy, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddOptions<ReleaseKitHostingOptions>().ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseKitHostingOptions>, ReleaseKitHostingOptionsValidator>());
        builder.Services.TryAddSingleton<ReleaseGatesHealthCheck>();
        builder.Services.Configure<HealthCheckServiceOptions>(options =>
        {
            if (!options.Registrations.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                options.Registrations.Add(new HealthCheckRegistration(name, sp => sp.GetRequiredService<ReleaseGatesHealthCheck>(), failureStatus, tags ?? ["ready"]));
            }
        });
        return builder;
    }
}
