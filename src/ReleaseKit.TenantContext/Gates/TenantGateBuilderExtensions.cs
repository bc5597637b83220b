using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the tenant change-window and feature exposure gates.</summary>
public static class TenantGateBuilderExtensions
{
    /// <summary>
    /// Adds the tenant change-window gate (stage Promotion) for the ring being promoted: it names the tenants the release reaches
    /// next and fails for each tenant whose own change windows deny a change now, and for strategic tenants whose previous ring
    /// has not been healthy long enough (asked of a registered <see cref="IRingHealthSource"/>; unknown fails).
    /// Requires <c>AddTenantContext()</c>.
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="ring">The ring being promoted (0 = canary).</param>
    /// <param name="name">The gate's name; also the name of its options.</param>
    /// <param name="registration">Configures the registration.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddTenantChangeWindowGate(this IReleaseGatesBuilder builder, int ring, string name = "tenant-change-windows", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddOptions<TenantChangeWindowGateOptions>(name).Configure(o => o.Ring = ring).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TenantChangeWindowGateOptions>, TenantChangeWindowGateOptionsValidator>());
        return builder.AddGate<TenantChangeWindowGate>(name, r =>
        {
            r.InStages(GateStage.Promotion).WithTags("tenants", "change-window");
            registration?.Invoke(r);
        });
    }

    /// <summary>
    /// Adds the feature exposure gate (stage Promotion): for a release with a high-risk change class, every feature flag the
    /// manifest lists must be defined in FeatureManagement's configuration and off outside the rings reached so far.
    /// Requires <c>AddFeatureManagement()</c> (and, to check real tenants, <c>AddTenantContext()</c>).
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="reachedRing">The highest ring the release reaches with this promotion.</param>
    /// <param name="configure">Configures the high-risk change classes.</param>
    /// <param name="name">The gate's name; also the name of its options.</param>
    /// <param name="registration">Configures the registration.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddFeatureExposureGate(this IReleaseGatesBuilder builder, int reachedRing, Action<FeatureExposureGateOptions>? configure = null, string name = "feature-exposure", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddOptions<FeatureExposureGateOptions>(name).Configure(o =>
        {
            o.ReachedRing = reachedRing;
            configure?.Invoke(o);
        }).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FeatureExposureGateOptions>, FeatureExposureGateOptionsValidator>());
        return builder.AddGate<FeatureExposureGate>(name, r =>
        {
            r.InStages(GateStage.Promotion).WithTags("feature-flags");
            registration?.Invoke(r);
        });
    }
}
