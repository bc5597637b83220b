using ReleaseKit.TenantContext;

namespace ProServ.Billing;

// Stand-in for ReleaseKit.Hosting.AspNetCore's app.UseReleaseKitTenants() until that package lands: everything about
// resolving the tenant over HTTP is in this one file, so swapping it is one line in BillingApp.MapEndpoints.

/// <summary>Resolves the tenant from the <c>X-Tenant-Id</c> header through ReleaseKit.TenantContext and makes it ambient for the endpoint.</summary>
internal sealed class TenantEndpointFilter(ITenantResolver resolver, ITenantContextAccessor tenants) : IEndpointFilter
{
    public const string Header = "X-Tenant-Id";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => (string?)h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        ResolvedTenant? tenant;
        try
        {
            tenant = await resolver.ResolveAsync(new TenantResolutionRequest { Headers = headers, Host = http.Request.Host.Host }, http.RequestAborted);
        }
        catch (UnknownTenantException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound, title: "Unknown tenant");
        }

        if (tenant is null)
        {
            return Results.Problem($"Send the tenant in the {Header} header.", statusCode: StatusCodes.Status400BadRequest, title: "No tenant");
        }

        http.Items[typeof(ResolvedTenant)] = tenant;
        using (tenants.Begin(tenant.TenantId))
        {
            return await next(context);
        }
    }
}

/// <summary>Reads the tenant the filter resolved.</summary>
internal static class TenantHttpContextExtensions
{
    public static ResolvedTenant Tenant(this HttpContext context) =>
        context.Items[typeof(ResolvedTenant)] as ResolvedTenant ?? throw new InvalidOperationException("The tenant filter did not run for this endpoint.");
}
