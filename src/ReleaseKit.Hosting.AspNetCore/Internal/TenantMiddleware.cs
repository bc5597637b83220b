using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using ReleaseKit.TenantContext;

namespace ReleaseKit.Hosting.AspNetCore.Internal;

/// <summary>
/// Resolves the request's tenant, makes it ambient for the rest of the pipeline and ends the scope afterwards. An unknown tenant
/// and (with the <see cref="MissingTenantBehavior.Throw"/> policy) a missing tenant are answered with problem details; the
/// request never reaches the endpoint.
/// </summary>
internal sealed class TenantMiddleware
{
    private const string FallbackSource = "TenantContextOptions.FallbackTenantId";

    private readonly RequestDelegate _next;
    private readonly ITenantResolver _resolver;
    private readonly ITenantContextAccessor _accessor;
    private readonly ITenantProfileProvider _profiles;
    private readonly PathString[] _pathsWithoutTenant;
    private readonly int _unknownTenantStatusCode;
    private readonly string? _fallbackTenantId;
    private readonly string _sourceList;
    private readonly ILogger _logger;

    public TenantMiddleware(RequestDelegate next, TenantMiddlewareSettings settings)
    {
        _next = next;
        _resolver = settings.Resolver;
        _accessor = settings.Accessor;
        _profiles = settings.Profiles;
        _pathsWithoutTenant = settings.PathsWithoutTenant;
        _unknownTenantStatusCode = settings.UnknownTenantStatusCode;
        _fallbackTenantId = settings.FallbackTenantId;
        _sourceList = settings.SourceList;
        _logger = settings.Logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        foreach (var allowed in _pathsWithoutTenant)
        {
            if (path.StartsWithSegments(allowed, StringComparison.OrdinalIgnoreCase))
            {
                return _next(context);
            }
        }

        return InvokeWithTenantAsync(context);
    }

    private async Task InvokeWithTenantAsync(HttpContext context)
    {
        string tenantId;
        try
        {
            var resolved = await _resolver.ResolveAsync(CreateRequest(context), context.RequestAborted).ConfigureAwait(false);
            if (resolved is not null)
            {
                tenantId = resolved.TenantId;
            }
            else if (_fallbackTenantId is not null)
            {
                // The fallback is one real tenant (never "all tenants"); a store that no longer knows it is an unknown tenant.
                if (await _profiles.FindAsync(_fallbackTenantId, context.RequestAborted).ConfigureAwait(false) is null)
                {
                    throw new UnknownTenantException(_fallbackTenantId, FallbackSource);
                }

                Log.FallbackTenantUsed(_logger, context.Request.Method, context.Request.Path.Value ?? "/", _fallbackTenantId);
                tenantId = _fallbackTenantId;
            }
            else
            {
                Log.MissingTenantRejected(_logger, context.Request.Method, context.Request.Path.Value ?? "/", _sourceList);
                await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Tenant required",
                    $"The request names no tenant. Send it in one of: {_sourceList}. Paths that need no tenant go in TenantMiddlewareOptions.PathsWithoutTenant.",
                    tenantId: null, source: null).ConfigureAwait(false);
                return;
            }
        }
        catch (UnknownTenantException ex)
        {
            Log.UnknownTenantRejected(_logger, context.Request.Method, context.Request.Path.Value ?? "/", _unknownTenantStatusCode, ex.TenantId, ex.TenantSource);
            await WriteProblemAsync(context, _unknownTenantStatusCode, "Unknown tenant", ex.Message, ex.TenantId, ex.TenantSource).ConfigureAwait(false);
            return;
        }

        var baggageBefore = Baggage.Current;
        using var scope = _accessor.Begin(tenantId);
        try
        {
            TenantPropagation.TagActivity(Activity.Current, tenantId);
            TenantPropagation.SetBaggage(tenantId);
            await _next(context).ConfigureAwait(false);
        }
        finally
        {
            Baggage.Current = baggageBefore;
        }
    }

    private static TenantResolutionRequest CreateRequest(HttpContext context)
    {
        var request = context.Request;
        var routeValues = request.RouteValues;
        return new TenantResolutionRequest
        {
            Headers = new HeaderValues(request.Headers),
            Host = request.Host.HasValue ? request.Host.Value : null,
            Claims = context.User.Claims.Select(c => new KeyValuePair<string, string>(c.Type, c.Value)),
            RouteValues = routeValues.Count == 0 ? null : routeValues.ToDictionary(
                v => v.Key, v => Convert.ToString(v.Value, CultureInfo.InvariantCulture), StringComparer.OrdinalIgnoreCase),
        };
    }

    private static Task WriteProblemAsync(HttpContext context, int statusCode, string title, string detail, string? tenantId, string? source)
    {
        var problem = new ProblemDetails
        {
            Status = statusCode,
            Title = title,
            Detail = detail,
            Instance = context.Request.Path.Value,
        };
        if (tenantId is not null)
        {
            problem.Extensions["tenantId"] = tenantId;
        }

        if (source is not null)
        {
            problem.Extensions["tenantSource"] = source;
        }

        return Results.Problem(problem).ExecuteAsync(context);
    }
}

/// <summary>What the middleware needs, resolved and checked once when the pipeline is built.</summary>
internal sealed record TenantMiddlewareSettings(
    ITenantResolver Resolver,
    ITenantContextAccessor Accessor,
    ITenantProfileProvider Profiles,
    PathString[] PathsWithoutTenant,
    int UnknownTenantStatusCode,
    string? FallbackTenantId,
    string SourceList,
    ILogger Logger);
