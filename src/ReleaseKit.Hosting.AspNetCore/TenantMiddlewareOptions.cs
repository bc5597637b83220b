using Microsoft.AspNetCore.Http;

namespace ReleaseKit.Hosting.AspNetCore;

/// <summary>
/// Options of the tenant middleware (<c>app.UseReleaseKitTenants(o => ...)</c>). Which sources name the tenant, which tenants exist
/// and what a missing tenant means are ReleaseKit.TenantContext's <c>TenantContextOptions</c>; these options only say what the
/// HTTP pipeline does around them.
/// </summary>
public sealed class TenantMiddlewareOptions
{
    /// <summary>The status codes allowed for <see cref="UnknownTenantStatusCode"/>.</summary>
    internal static readonly int[] AllowedUnknownTenantStatusCodes = [StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound];

    /// <summary>
    /// Gets the paths that need no tenant (probes, metrics): a request whose path is one of them, or below one of them
    /// (<c>/health</c> covers <c>/health/ready</c> but not <c>/healthz</c>), passes without a tenant scope. Each must start with
    /// <c>/</c>; compared case-insensitively. Default <c>/health</c> and <c>/ready</c>.
    /// </summary>
    public IList<string> PathsWithoutTenant { get; } = ["/health", "/ready"];

    /// <summary>
    /// Gets or sets the status code of the answer to a request that names a tenant the store does not know: 400 (the default) or 404
    /// (for APIs where the tenant is part of the resource's address). The body is <c>application/problem+json</c> naming the tenant
    /// and the source; the request never reaches the endpoint.
    /// </summary>
    public int UnknownTenantStatusCode { get; set; } = StatusCodes.Status400BadRequest;
}
