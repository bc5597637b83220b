using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class ResolverTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static ServiceProvider Build(Action<IServiceCollection>? more = null) => TestTenants.Build(more, o =>
    {
        TestTenants.Configure(o);
        o.Tenants[1].Hosts.Add("billing.acme-corp.com");
        o.ResolveFrom(TenantSourceKind.Header, "X-Tenant-Id")
         .ResolveFrom(TenantSourceKind.Host, ".app.example.com")
         .ResolveFrom(TenantSourceKind.Claim, "tid")
         .ResolveFrom(TenantSourceKind.RouteValue, "tenant")
         .ResolveFrom(TenantSourceKind.JobPayload, "tenantId");
    });

    private static Dictionary<string, string?> Map(string key, string value) => new(StringComparer.OrdinalIgnoreCase) { [key] = value };

    [Fact]
    public async Task Each_source_resolves_its_tenant()
    {
        using var provider = Build();
        var resolver = provider.GetRequiredService<ITenantResolver>();

        Assert.Equal("acme", (await resolver.ResolveAsync(new() { Headers = Map("x-tenant-id", "acme") }, Ct))!.TenantId);
        Assert.Equal("globex", (await resolver.ResolveAsync(new() { Host = "globex.app.example.com:8443" }, Ct))!.TenantId);
        Assert.Equal("acme", (await resolver.ResolveAsync(new() { Host = "billing.acme-corp.com" }, Ct))!.TenantId);
        Assert.Equal("initech", (await resolver.ResolveAsync(new() { Claims = [new("tid", "initech")] }, Ct))!.TenantId);
        Assert.Equal("canary", (await resolver.ResolveAsync(new() { RouteValues = Map("tenant", "canary") }, Ct))!.TenantId);
        var job = await resolver.ResolveAsync(new() { JobPayload = Map("tenantId", "globex") }, Ct);
        Assert.Equal("globex", job!.TenantId);
        Assert.Equal("JobPayload 'tenantId'", job.Source);
    }

    [Fact]
    public async Task Sources_are_tried_in_order_and_the_first_that_names_a_tenant_wins()
    {
        using var provider = Build();
        var resolved = await provider.GetRequiredService<ITenantResolver>().ResolveAsync(
            new() { Headers = Map("X-Tenant-Id", "acme"), Host = "globex.app.example.com", Claims = [new("tid", "initech")] }, Ct);
        Assert.Equal("acme", resolved!.TenantId);
        Assert.Equal("Header 'X-Tenant-Id'", resolved.Source);
    }

    [Fact]
    public async Task Header_naming_an_unknown_tenant_is_rejected_with_the_header_named()
    {
        using var provider = Build();
        var error = await Assert.ThrowsAsync<UnknownTenantException>(async () =>
            await provider.GetRequiredService<ITenantResolver>().ResolveAsync(new() { Headers = Map("X-Tenant-Id", "umbrella"), Host = "acme.app.example.com" }, Ct));
        Assert.Equal("umbrella", error.TenantId);
        Assert.Contains("Header 'X-Tenant-Id'", error.Message);
    }

    [Fact]
    public async Task Request_without_any_source_resolves_no_tenant_rather_than_all_tenants()
    {
        using var provider = Build();
        Assert.Null(await provider.GetRequiredService<ITenantResolver>().ResolveAsync(new() { Host = "www.other.org" }, Ct));
    }

    [Fact]
    public async Task Results_are_cached_per_key()
    {
        var store = new TenantStoreTests.CountingStore();
        using var provider = TestTenants.Build(s => s.AddSingleton<ITenantStore>(store), o => o.ResolveFrom(TenantSourceKind.Header, "X-Tenant-Id"));
        var resolver = provider.GetRequiredService<ITenantResolver>();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("acme", (await resolver.ResolveAsync(new() { Headers = Map("X-Tenant-Id", "acme") }, Ct))!.TenantId);
        }

        Assert.Equal(1, store.Finds);
    }

    [Fact]
    public async Task Custom_strategy_is_tried_after_the_configured_sources()
    {
        using var provider = Build(s => s.AddSingleton<ITenantResolutionStrategy>(new FixedStrategy("initech")));
        var resolver = provider.GetRequiredService<ITenantResolver>();
        Assert.Equal("acme", (await resolver.ResolveAsync(new() { Headers = Map("X-Tenant-Id", "acme") }, Ct))!.TenantId);
        var fromStrategy = await resolver.ResolveAsync(new(), Ct);
        Assert.Equal("initech", fromStrategy!.TenantId);
        Assert.Equal("fixed", fromStrategy.Source);
    }

    private sealed class FixedStrategy(string tenantId) : ITenantResolutionStrategy
    {
        public string Name => "fixed";

        public ValueTask<string?> GetTenantIdAsync(TenantResolutionRequest request, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(tenantId);
    }
}
