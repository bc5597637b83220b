using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ReleaseKit.Hosting.AspNetCore;
using ReleaseKit.Hosting.AspNetCore.Internal;
using ReleaseKit.TenantContext;

namespace Microsoft.AspNetCore.Builder;

/// <summary>ReleaseKit in the ASP.NET Core pipeline: the tenant middleware and the readiness endpoint.</summary>
public static class ReleaseKitApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the tenant middleware. For each request it feeds the configured ReleaseKit.TenantContext sources (header, host, claim,
    /// route value — route values need the middleware after routing, which <c>WebApplication</c> does by default) and the registered
    /// strategies, makes the tenant ambient (<see cref="ITenantContextAccessor"/>) for the rest of the pipeline, tags
    /// <c>Activity.Current</c> and the baggage with <c>tenant.id</c>, and ends the scope when the request ends.
    /// A tenant the store does not know is answered with <see cref="TenantMiddlewareOptions.UnknownTenantStatusCode"/> and
    /// <c>application/problem+json</c> naming the tenant and the source. A request that names no tenant gets 400 problem details,
    /// or the fallback tenant when <c>TenantContextOptions.MissingTenant</c> is <see cref="MissingTenantBehavior.UseFallback"/>.
    /// Paths in <see cref="TenantMiddlewareOptions.PathsWithoutTenant"/> pass without a tenant.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <param name="configure">Configures the paths without tenant and the unknown-tenant status code.</param>
    /// <returns>The application builder.</returns>
    /// <exception cref="InvalidOperationException">
    /// The tenant context is not registered (<c>AddReleaseKit().AddTenantContext(...)</c>), no source or strategy can name a tenant,
    /// or an option is invalid; the message says what to change.
    /// </exception>
    /// <example><code>app.UseReleaseKitTenants(o => o.PathsWithoutTenant.Add("/metrics"));</code></example>
    public static IApplicationBuilder UseReleaseKitTenants(this IApplicationBuilder app, Action<TenantMiddlewareOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        var options = new TenantMiddlewareOptions();
        configure?.Invoke(options);
        var failures = Validate(options);
        if (failures.Count > 0)
        {
            throw new InvalidOperationException("UseReleaseKitTenants: " + string.Join(" ", failures));
        }

        var resolver = services.GetService<ITenantResolver>()
            ?? throw new InvalidOperationException("UseReleaseKitTenants needs the tenant context: call builder.Services.AddReleaseKit().AddTenantContext(o => o.ResolveFrom(TenantSourceKind.Header, \"X-Tenant-Id\").AddTenant(...)) before building the application.");
        var tenantOptions = services.GetRequiredService<IOptions<TenantContextOptions>>().Value;
        var sources = tenantOptions.Sources.Select(s => s.ToString())
            .Concat(services.GetServices<ITenantResolutionStrategy>().Select(s => s.Name))
            .ToList();
        if (sources.Count == 0)
        {
            throw new InvalidOperationException("UseReleaseKitTenants: no source can name a tenant. Add one to TenantContextOptions (o.ResolveFrom(TenantSourceKind.Header, \"X-Tenant-Id\"); allowed kinds: Header, Host, Claim, RouteValue) or register an ITenantResolutionStrategy.");
        }

        var settings = new TenantMiddlewareSettings(
            resolver,
            services.GetRequiredService<ITenantContextAccessor>(),
            services.GetRequiredService<ITenantProfileProvider>(),
            [.. options.PathsWithoutTenant.Select(p => new PathString(p.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/"))],
            options.UnknownTenantStatusCode,
            tenantOptions.MissingTenant == MissingTenantBehavior.UseFallback ? tenantOptions.FallbackTenantId : null,
            string.Join(", ", sources),
            services.GetService<ILoggerFactory>()?.CreateLogger("ReleaseKit.Hosting.AspNetCore.TenantMiddleware") ?? NullLogger.Instance);
        return app.Use(next => new TenantMiddleware(next, settings).InvokeAsync);
    }

    /// <summary>
    /// Maps the readiness probe: the health checks tagged <c>ready</c>, which include the startup-gate check added by
    /// <c>AddHealthChecks().AddReleaseKitReadiness()</c>. Healthy and Degraded answer 200, Unhealthy 503.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The path. Default <c>/ready</c> (one of the default <see cref="TenantMiddlewareOptions.PathsWithoutTenant"/>).</param>
    /// <returns>The endpoint convention builder.</returns>
    /// <example><code>app.MapReleaseKitReadiness("/ready");</code></example>
    public static IEndpointConventionBuilder MapReleaseKitReadiness(this IEndpointRouteBuilder endpoints, string pattern = "/ready")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        return endpoints.MapHealthChecks(pattern, new HealthCheckOptions { Predicate = r => r.Tags.Contains("ready") });
    }

    private static List<string> Validate(TenantMiddlewareOptions options)
    {
        var failures = new List<string>();
        if (Array.IndexOf(TenantMiddlewareOptions.AllowedUnknownTenantStatusCodes, options.UnknownTenantStatusCode) < 0)
        {
            failures.Add($"TenantMiddlewareOptions.UnknownTenantStatusCode is {options.UnknownTenantStatusCode}; allowed values are {string.Join(" and ", TenantMiddlewareOptions.AllowedUnknownTenantStatusCodes)}.");
        }

        for (var i = 0; i < options.PathsWithoutTenant.Count; i++)
        {
            var path = options.PathsWithoutTenant[i];
            if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/'))
            {
                failures.Add($"TenantMiddlewareOptions.PathsWithoutTenant[{i}] is '{path}'; each path must start with '/' (for example /health).");
            }
        }

        return failures;
    }
}
