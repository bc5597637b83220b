using Microsoft.Extensions.Options;

namespace ReleaseKit.TenantContext.Internal;

/// <summary>The store used when the application registers none: the tenants in <see cref="TenantContextOptions.Tenants"/> (validated at startup).</summary>
internal sealed class OptionsTenantStore(IOptions<TenantContextOptions> options) : ITenantStore
{
    private readonly Lazy<Dictionary<string, TenantProfile>> _profiles = new(() =>
        options.Value.Tenants.Select(TenantProfiles.Create).ToDictionary(p => p.Id, StringComparer.OrdinalIgnoreCase));

    public ValueTask<TenantProfile?> FindAsync(string tenantId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_profiles.Value.GetValueOrDefault(tenantId));

    public ValueTask<IReadOnlyList<TenantProfile>> ListAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<TenantProfile>>([.. _profiles.Value.Values.OrderBy(p => p.Ring).ThenBy(p => p.Id, StringComparer.Ordinal)]);
}
