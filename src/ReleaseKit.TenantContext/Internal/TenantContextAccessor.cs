using Microsoft.Extensions.Options;

namespace ReleaseKit.TenantContext.Internal;

internal sealed class TenantContextAccessor(IOptions<TenantContextOptions> options) : ITenantContextAccessor
{
    private readonly string? _fallback = options.Value.MissingTenant == MissingTenantBehavior.UseFallback ? options.Value.FallbackTenantId : null;

    public string? CurrentTenantId => AmbientTenant.TenantId;

    public string GetRequiredTenantId() => AmbientTenant.TenantId ?? _fallback ?? throw new TenantNotSetException();

    public TenantScope Begin(string tenantId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        return new TenantScope(tenantId);
    }

    public TenantSnapshot Capture() => new(AmbientTenant.TenantId);
}
