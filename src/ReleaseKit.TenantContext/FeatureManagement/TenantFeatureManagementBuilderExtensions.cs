using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using ReleaseKit.TenantContext;
using ReleaseKit.TenantContext.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Connects Microsoft.FeatureManagement to the ambient tenant.</summary>
public static class TenantFeatureManagementBuilderExtensions
{
    /// <summary>
    /// Makes the ambient tenant FeatureManagement's targeting context (targeting id = tenant id; groups <c>ring:&lt;n&gt;</c>,
    /// <c>tier:&lt;tier&gt;</c>, <c>region:&lt;region&gt;</c>), registers the targeting filter (<c>Microsoft.Targeting</c>) and the
    /// ring filter (<c>ReleaseKit.Ring</c>, parameter <c>MaxRing</c>). Requires <c>AddReleaseKit().AddTenantContext()</c>.
    /// Calling it again registers nothing twice.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddFeatureManagement()</c>.</param>
    /// <returns>The builder.</returns>
    public static IFeatureManagementBuilder WithTenantTargeting(this IFeatureManagementBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(TenantTargetingMarker)))
        {
            return builder;
        }

        builder.Services.AddSingleton<TenantTargetingMarker>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.WithTargeting<TenantTargetingContextAccessor>();
        builder.AddFeatureFilter<RingFeatureFilter>();
        builder.AddFeatureFilter<ContextualRingFeatureFilter>();
        return builder;
    }

    private sealed class TenantTargetingMarker;
}
