using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.TenantContext;
using ReleaseKit.TenantContext.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the tenant context.</summary>
public static class TenantContextServiceCollectionExtensions
{
    /// <summary>
    /// Adds the ambient tenant (<see cref="ITenantContextAccessor"/>), cached tenant profiles (<see cref="ITenantProfileProvider"/>,
    /// from a registered <see cref="ITenantStore"/> or the configured tenants) and the resolver (<see cref="ITenantResolver"/>).
    /// Options are validated at startup. Calling it again registers nothing twice (configure callbacks add up).
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="configure">Configures tenants, the missing-tenant policy, caching and resolution sources.</param>
    /// <returns>The ReleaseKit builder.</returns>
    public static IReleaseKitBuilder AddTenantContext(this IReleaseKitBuilder builder, Action<TenantContextOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        var options = services.AddOptions<TenantContextOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TenantContextOptions>, TenantContextOptionsValidator>());
        services.TryAddSingleton<ITenantContextAccessor, TenantContextAccessor>();
        services.TryAddSingleton<ITenantStore, OptionsTenantStore>();
        services.TryAddSingleton<ITenantProfileProvider, TenantProfileCache>();
        services.TryAddSingleton<ITenantResolver, TenantResolver>();
        return builder;
    }
}
