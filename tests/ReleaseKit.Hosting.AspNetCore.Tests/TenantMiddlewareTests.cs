using System.Diagnostics;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using ReleaseKit.TenantContext;

namespace ReleaseKit.Hosting.AspNetCore.Tests;

public sealed class TenantMiddlewareTests
{
    [Fact]
    public async Task Tenant_named_in_the_header_is_ambient_in_the_endpoint()
    {
        await using var app = await TenantApp.StartAsync();

        Assert.Equal("acme", await app.GetStringAsync("/tenant", "acme"));
        Assert.Equal("globex", await app.GetStringAsync("/tenant", "GLOBEX ".Trim().ToLowerInvariant()));
        Assert.Equal(2, app.HandlerCalls);
    }

    [Fact]
    public async Task Unknown_tenant_is_refused_with_problem_details_naming_the_tenant_and_the_header_and_the_endpoint_never_runs()
    {
        await using var app = await TenantApp.StartAsync();

        using var response = await app.GetAsync("/tenant", "ghost");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await TenantApp.ReadProblemAsync(response);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("Unknown tenant", problem.GetProperty("title").GetString());
        Assert.Equal("ghost", problem.GetProperty("tenantId").GetString());
        Assert.Equal("Header 'X-Tenant-Id'", problem.GetProperty("tenantSource").GetString());
        Assert.Contains("'ghost'", problem.GetProperty("detail").GetString());
        Assert.Equal(0, app.HandlerCalls);
    }

    [Fact]
    public async Task Unknown_tenant_status_can_be_404()
    {
        await using var app = await TenantApp.StartAsync(middleware: o => o.UnknownTenantStatusCode = StatusCodes.Status404NotFound);

        using var response = await app.GetAsync("/tenant", "ghost");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("ghost", (await TenantApp.ReadProblemAsync(response)).GetProperty("tenantId").GetString());
        Assert.Equal(0, app.HandlerCalls);
    }

    [Fact]
    public async Task Request_without_tenant_is_refused_with_400_naming_the_sources_when_the_policy_is_throw()
    {
        await using var app = await TenantApp.StartAsync(o =>
        {
            TenantApp.DefaultTenants(o);
            o.ResolveFrom(TenantSourceKind.Claim, "tid");
        });

        using var response = await app.GetAsync("/tenant");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await TenantApp.ReadProblemAsync(response);
        Assert.Equal("Tenant required", problem.GetProperty("title").GetString());
        Assert.Contains("Header 'X-Tenant-Id', Claim 'tid'", problem.GetProperty("detail").GetString());
        Assert.False(problem.TryGetProperty("tenantId", out _));
        Assert.Equal(0, app.HandlerCalls);
    }

    [Fact]
    public async Task Request_without_tenant_runs_for_the_fallback_tenant_when_the_policy_is_use_fallback()
    {
        await using var app = await TenantApp.StartAsync(o =>
        {
            TenantApp.DefaultTenants(o);
            o.MissingTenant = MissingTenantBehavior.UseFallback;
            o.FallbackTenantId = "initech";
        });

        Assert.Equal("initech", await app.GetStringAsync("/tenant"));
        Assert.Equal("acme", await app.GetStringAsync("/tenant", "acme"));

        // A named tenant the store does not know is still refused: the fallback is for "no tenant", not for "wrong tenant".
        using var unknown = await app.GetAsync("/tenant", "ghost");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/health/live")]
    [InlineData("/ready")]
    [InlineData("/READY")]
    public async Task Allow_listed_paths_pass_without_a_tenant(string path)
    {
        await using var app = await TenantApp.StartAsync();

        Assert.Equal("(none)", await app.GetStringAsync(path));
    }

    [Fact]
    public async Task Allow_list_matches_whole_path_segments_and_can_be_extended()
    {
        await using var app = await TenantApp.StartAsync(middleware: o => o.PathsWithoutTenant.Add("/metrics/"));

        using var healthz = await app.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.BadRequest, healthz.StatusCode);
        Assert.Equal("(none)", await app.GetStringAsync("/metrics"));

        // An allow-listed path that names a tenant still gets no scope: the allow list means "no tenant here".
        Assert.Equal("(none)", await app.GetStringAsync("/health", "acme"));
    }

    [Fact]
    public async Task Host_claim_and_route_value_sources_name_the_tenant()
    {
        await using var app = await TenantApp.StartAsync(
            o =>
            {
                o.ResolveFrom(TenantSourceKind.RouteValue, "tenant")
                    .ResolveFrom(TenantSourceKind.Claim, "tid")
                    .ResolveFrom(TenantSourceKind.Host, ".app.example.com");
                foreach (var id in TenantApp.Tenants)
                {
                    o.AddTenant(id);
                }
            },
            before: web => web.Use((context, next) =>
            {
                if (context.Request.Headers.TryGetValue("X-Test-Claim", out var tid))
                {
                    context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("tid", tid.ToString())], "test"));
                }

                return next(context);
            }),
            endpoints: (web, app) => web.MapGet("/tenants/{tenant}/whoami", (ITenantContextAccessor accessor) => app.Seen(accessor.CurrentTenantId)));

        Assert.Equal("globex", await app.GetStringAsync("/tenants/globex/whoami"));
        Assert.Equal("initech", await app.GetStringAsync("/tenant", configure: r => r.Headers.Add("X-Test-Claim", "initech")));
        Assert.Equal("umbrella", await app.GetStringAsync("/tenant", configure: r => r.Headers.Host = "umbrella.app.example.com:8443"));
        using var unknownRoute = await app.GetAsync("/tenants/ghost/whoami");
        Assert.Equal("RouteValue 'tenant'", (await TenantApp.ReadProblemAsync(unknownRoute)).GetProperty("tenantSource").GetString());
    }

    [Fact]
    public async Task Tenant_header_sent_twice_is_refused_rather_than_one_value_picked()
    {
        await using var app = await TenantApp.StartAsync();

        using var response = await app.GetAsync("/tenant", configure: r => r.Headers.Add(TenantApp.Header, new[] { "acme", "globex" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, app.HandlerCalls);
    }

    [Fact]
    public async Task Request_activity_and_baggage_carry_the_tenant()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await using var app = await TenantApp.StartAsync(endpoints: (web, app) => web.MapGet("/telemetry", () =>
            $"{Activity.Current?.GetTagItem(TenantPropagation.Key)}|{Baggage.GetBaggage(TenantPropagation.Key)}"));

        Assert.Equal("hooli|hooli", await app.GetStringAsync("/telemetry", "hooli"));
    }
}
