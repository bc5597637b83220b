using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.AspNetCore.Tests;

/// <summary>The package README's example, as written there (the test server instead of Kestrel, StartAsync instead of Run).</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task The_readme_example_serves_tenants_and_readiness()
    {
        using var directory = new TempDirectory();
        var args = Array.Empty<string>();

        // --- README example ---
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = directory.Path, EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Services.AddReleaseKit()
            .AddTenantContext(o => o.ResolveFrom(TenantSourceKind.Header, "X-Tenant-Id").AddTenant("acme").AddTenant("globex"))
            .AddGates(g => g.AddManifestCompletenessGate());
        builder.Services.AddHealthChecks().AddReleaseKitReadiness();
        await using var app = builder.Build();
        app.UseReleaseKitTenants();
        app.MapReleaseKitReadiness("/ready");
        app.MapGet("/invoices", (ITenantContextAccessor tenants) => $"invoices of {tenants.GetRequiredTenantId()}");
        await app.StartAsync(TestContext.Current.CancellationToken);
        // ----------------------

        using var client = app.GetTestClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/invoices") { Headers = { { "X-Tenant-Id", "globex" } } };
        using var invoices = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal("invoices of globex", await invoices.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        // /ready needs no tenant; no manifest and no startup-stage gate: readiness fails closed with 503.
        using var ready = await client.GetAsync("/ready", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("Unhealthy", await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        await app.StopAsync(TestContext.Current.CancellationToken);
    }
}
