#pragma warning disable xUnit1051 // The README example is copied verbatim.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

/// <summary>The package README's example, kept compiling and running here.</summary>
public sealed class ReadmeExampleTests
{
    private sealed record InvoiceJob(TenantSnapshot Tenant);

    [Fact]
    public async Task Readme_example_runs()
    {
        var services = new ServiceCollection();
        var configuration = TestTenants.Json("""{ "feature_management": { "feature_flags": [ { "id": "NewInvoiceExport", "enabled": true, "conditions": { "client_filters": [ { "name": "ReleaseKit.Ring", "parameters": { "MaxRing": 1 } } ] } } ] } }""");
        var headers = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["X-Tenant-Id"] = "acme" };

        // --- README ---
        services.AddSingleton<IConfiguration>(configuration); // holds "feature_management" (FeatureManagement's own schema)
        services.AddReleaseKit()
            .AddTenantContext(o => o.ResolveFrom(TenantSourceKind.Header, "X-Tenant-Id")
                .AddTenant("acme", t => { t.Ring = 1; t.Tier = "DedicatedDatabase"; t.Freeze("month-end close", WindowRule.LastBusinessDaysOfMonth(3), "Europe/Berlin"); }))
            .AddGates(g => g.AddTenantChangeWindowGate(ring: 1).AddFeatureExposureGate(reachedRing: 1));
        services.AddFeatureManagement().WithTenantTargeting();
        using var provider = services.BuildServiceProvider();
        var tenant = await provider.GetRequiredService<ITenantResolver>().ResolveAsync(new() { Headers = headers }); // unknown id: UnknownTenantException
        using var scope = provider.GetRequiredService<ITenantContextAccessor>().Begin(tenant!.TenantId);
        var on = await provider.GetRequiredService<IFeatureManager>().IsEnabledAsync("NewInvoiceExport"); // ring filter + targeting
        var job = new InvoiceJob(TenantSnapshot.Capture()); // in the worker: using (job.Tenant.Restore()) { ... }
        // --- end ---

        Assert.True(on);
        Assert.Equal("acme", job.Tenant.TenantId);
    }
}
