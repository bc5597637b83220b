using ReleaseKit.TenantContext;

namespace ProServ.Billing;

/// <summary>
/// Loads the profile of the tenant the request runs for. <c>app.UseReleaseKitTenants()</c> (ReleaseKit.Hosting.AspNetCore)
/// has already resolved the <c>X-Tenant-Id</c> header, refused unknown tenants with problem details and made the tenant
/// ambient; this filter only puts its profile (tier, ring) where the endpoints read it.
/// </summary>
internal sealed class TenantProfileFilter(ITenantContextAccessor tenants, ITenantProfileProvider profiles) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        http.Items[typeof(TenantProfile)] = await profiles.GetAsync(tenants.GetRequiredTenantId(), http.RequestAborted);
        return await next(context);
    }
}

/// <summary>Reads the profile the filter loaded.</summary>
internal static class TenantHttpContextExtensions
{
    public static TenantProfile Tenant(this HttpContext context) =>
        context.Items[typeof(TenantProfile)] as TenantProfile ?? throw new InvalidOperationException("The tenant profile filter did not run for this endpoint.");
}
