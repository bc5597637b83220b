using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Hosting.AspNetCore;
using ReleaseKit.TenantContext;

namespace ReleaseKit.Hosting.AspNetCore.Tests;

/// <summary>A real ASP.NET Core application on the in-memory test server, with the tenant middleware and endpoints that report the ambient tenant.</summary>
internal sealed class TenantApp : IAsyncDisposable
{
    public const string Header = "X-Tenant-Id";

    private int _handlerCalls;

    private TenantApp(WebApplication app)
    {
        App = app;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; private set; } = null!;

    /// <summary>Gets how often an endpoint behind the middleware ran.</summary>
    public int HandlerCalls => Volatile.Read(ref _handlerCalls);

    /// <summary>The default tenants: acme, globex, initech, umbrella, hooli; resolved from the <c>X-Tenant-Id</c> header.</summary>
    public static void DefaultTenants(TenantContextOptions o)
    {
        o.ResolveFrom(TenantSourceKind.Header, Header);
        foreach (var id in Tenants)
        {
            o.AddTenant(id);
        }
    }

    public static readonly string[] Tenants = ["acme", "globex", "initech", "umbrella", "hooli"];

    public static async Task<TenantApp> StartAsync(
        Action<TenantContextOptions>? tenants = null,
        Action<TenantMiddlewareOptions>? middleware = null,
        Action<WebApplication>? before = null,
        Action<WebApplication, TenantApp>? endpoints = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Services.AddReleaseKit().AddTenantContext(tenants ?? DefaultTenants);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        var result = new TenantApp(app);
        before?.Invoke(app);
        app.UseReleaseKitTenants(middleware);
        foreach (var path in new[] { "/tenant", "/health", "/health/live", "/ready", "/healthz", "/metrics" })
        {
            app.MapGet(path, (ITenantContextAccessor accessor) => result.Seen(accessor.CurrentTenantId));
        }

        endpoints?.Invoke(app, result);
        await app.StartAsync(TestContext.Current.CancellationToken);
        result.Client = app.GetTestClient();
        return result;
    }

    /// <summary>Counts a handler call and returns what it saw.</summary>
    public string Seen(string? tenantId)
    {
        Interlocked.Increment(ref _handlerCalls);
        return tenantId ?? "(none)";
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? tenant = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (tenant is not null)
        {
            request.Headers.Add(Header, tenant);
        }

        configure?.Invoke(request);
        return Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async Task<string> GetStringAsync(string path, string? tenant = null, Action<HttpRequestMessage>? configure = null)
    {
        using var response = await GetAsync(path, tenant, configure);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {body}");
        return body;
    }

    public static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }
}
