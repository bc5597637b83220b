using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Hosting.AspNetCore;
using ReleaseKit.TenantContext;

namespace ReleaseKit.Hosting.AspNetCore.Tests;

public sealed class StartupTests
{
    [Fact]
    public async Task Middleware_without_the_tenant_context_fails_at_startup_saying_what_to_register()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.UseReleaseKitTenants());

        Assert.Contains("AddTenantContext", error.Message);
    }

    [Fact]
    public async Task Tenant_context_without_any_source_fails_at_startup()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TenantApp.StartAsync(o => o.AddTenant("acme")));

        Assert.Contains("no source can name a tenant", error.Message);
        Assert.Contains("ResolveFrom", error.Message);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(200)]
    public async Task Unknown_tenant_status_other_than_400_or_404_fails_at_startup_naming_the_option(int status)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TenantApp.StartAsync(middleware: o => o.UnknownTenantStatusCode = status));

        Assert.Contains($"TenantMiddlewareOptions.UnknownTenantStatusCode is {status}; allowed values are 400 and 404.", error.Message);
    }

    [Fact]
    public async Task Path_without_leading_slash_fails_at_startup_naming_the_entry()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TenantApp.StartAsync(middleware: o => o.PathsWithoutTenant.Add("metrics")));

        Assert.Contains("TenantMiddlewareOptions.PathsWithoutTenant[2] is 'metrics'", error.Message);
    }

    [Fact]
    public async Task Invalid_fallback_policy_fails_at_startup_with_the_tenant_context_message()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TenantApp.StartAsync(o =>
        {
            TenantApp.DefaultTenants(o);
            o.MissingTenant = MissingTenantBehavior.UseFallback;
        }));

        Assert.Contains("FallbackTenantId is missing", error.Message);
    }
}
