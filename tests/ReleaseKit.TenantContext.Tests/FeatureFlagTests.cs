using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class FeatureFlagTests
{
    internal const string Features = """
    {
      "feature_management": {
        "feature_flags": [
          { "id": "NewInvoiceExport", "enabled": true,
            "conditions": { "client_filters": [ { "name": "ReleaseKit.Ring", "parameters": { "MaxRing": 1 } } ] } },
          { "id": "DedicatedOnly", "enabled": true,
            "conditions": { "client_filters": [ { "name": "Microsoft.Targeting", "parameters": { "Audience": { "Groups": [ { "Name": "tier:DedicatedDatabase", "RolloutPercentage": 100 } ], "DefaultRolloutPercentage": 0 } } } ] } },
          { "id": "UsEastOnly", "enabled": true,
            "conditions": { "client_filters": [ { "name": "Microsoft.Targeting", "parameters": { "Audience": { "Groups": [ { "Name": "region:us-east", "RolloutPercentage": 100 } ], "DefaultRolloutPercentage": 0 } } } ] } },
          { "id": "BrokenRing", "enabled": true,
            "conditions": { "client_filters": [ { "name": "ReleaseKit.Ring", "parameters": { "MaxRing": "two" } } ] } }
        ]
      }
    }
    """;

    private static async Task<bool> EnabledFor(IServiceProvider provider, string tenant, string feature)
    {
        using var _ = provider.GetRequiredService<ITenantContextAccessor>().Begin(tenant);
        return await provider.GetRequiredService<IFeatureManager>().IsEnabledAsync(feature);
    }

    [Theory]
    [InlineData("canary", true)]
    [InlineData("acme", true)]
    [InlineData("globex", true)]
    [InlineData("initech", false)]
    public async Task Ring_filter_enables_a_feature_for_rings_up_to_MaxRing(string tenant, bool expected)
    {
        using var provider = TestTenants.Build(featureJson: Features);
        Assert.Equal(expected, await EnabledFor(provider, tenant, "NewInvoiceExport"));
    }

    [Theory]
    [InlineData("acme", "DedicatedOnly", true)]
    [InlineData("globex", "DedicatedOnly", false)]
    [InlineData("initech", "UsEastOnly", true)]
    [InlineData("acme", "UsEastOnly", false)]
    public async Task Targeting_filter_sees_the_tenants_tier_and_region_groups(string tenant, string feature, bool expected)
    {
        using var provider = TestTenants.Build(featureJson: Features);
        Assert.Equal(expected, await EnabledFor(provider, tenant, feature));
    }

    [Fact]
    public async Task Targeting_context_has_the_tenant_id_and_its_ring_tier_and_region_groups()
    {
        using var provider = TestTenants.Build(featureJson: Features);
        using var _ = provider.GetRequiredService<ITenantContextAccessor>().Begin("acme");
        var context = await provider.GetRequiredService<ITargetingContextAccessor>().GetContextAsync();
        Assert.Equal("acme", context.UserId);
        Assert.Equal(["ring:1", "tier:DedicatedDatabase", "region:eu-west"], context.Groups);
    }

    [Fact]
    public async Task Ring_filter_works_with_an_explicit_targeting_context()
    {
        using var provider = TestTenants.Build(featureJson: Features);
        var features = provider.GetRequiredService<IFeatureManager>();
        Assert.True(await features.IsEnabledAsync("NewInvoiceExport", new TargetingContext { UserId = "x", Groups = ["ring:0"] }));
        Assert.False(await features.IsEnabledAsync("NewInvoiceExport", new TargetingContext { UserId = "x", Groups = ["ring:5"] }));
        Assert.False(await features.IsEnabledAsync("NewInvoiceExport", new TargetingContext { UserId = "x", Groups = [] }));
    }

    [Fact]
    public async Task Invalid_ring_parameters_leave_the_feature_off()
    {
        using var provider = TestTenants.Build(featureJson: Features);
        Assert.False(await EnabledFor(provider, "canary", "BrokenRing"));
    }

    [Fact]
    public async Task Evaluating_a_tenant_feature_without_a_tenant_throws_rather_than_enabling_it_for_everyone()
    {
        using var provider = TestTenants.Build(featureJson: Features);
        await Assert.ThrowsAsync<TenantNotSetException>(() => provider.GetRequiredService<IFeatureManager>().IsEnabledAsync("NewInvoiceExport"));
    }

    [Fact]
    public async Task Ambient_tenant_unknown_to_the_store_is_an_error()
    {
        using var provider = TestTenants.Build(featureJson: Features);
        await Assert.ThrowsAsync<UnknownTenantException>(() => EnabledFor(provider, "umbrella", "NewInvoiceExport"));
    }

    [Fact]
    public async Task Legacy_FeatureManagement_schema_works_too()
    {
        using var provider = TestTenants.Build(featureJson: """
        { "FeatureManagement": { "Legacy": { "EnabledFor": [ { "Name": "ReleaseKit.Ring", "Parameters": { "MaxRing": 0 } } ] } } }
        """);
        Assert.True(await EnabledFor(provider, "canary", "Legacy"));
        Assert.False(await EnabledFor(provider, "acme", "Legacy"));
    }

    [Fact]
    public void Adding_tenant_targeting_twice_registers_the_filters_once()
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddTenantContext();
        services.AddFeatureManagement().WithTenantTargeting().WithTenantTargeting();
        Assert.Single(services, d => d.ServiceType == typeof(ITargetingContextAccessor));
        Assert.Single(services, d => d.ImplementationType?.Name == "RingFeatureFilter");
        Assert.Single(services, d => d.ImplementationType?.Name == "ContextualRingFeatureFilter");
    }
}
