using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class GateTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static ReleaseManifest Manifest(string[]? changeClasses = null, string[]? flags = null) => new()
    {
        ReleaseId = "r-42",
        Version = "2028.5.1",
        ChangeClasses = changeClasses ?? [ChangeClasses.BillingLogic],
        FeatureFlags = flags ?? [],
    };

    private static async Task<GateEntry> RunAsync(Action<IReleaseGatesBuilder> gates, DateTimeOffset now, ReleaseManifest? manifest = null, Action<IServiceCollection>? more = null, string? featureJson = null)
    {
        using var provider = TestTenants.Build(s =>
        {
            gates(s.AddReleaseKit().AddGates());
            more?.Invoke(s);
        }, time: new FakeTimeProvider(now), featureJson: featureJson);
        var report = await provider.GetRequiredService<IReleaseGateRunner>().RunAsync(new GateRunRequest { Manifest = manifest ?? Manifest(), EnvironmentName = "production" }, Ct);
        return Assert.Single(report.Entries);
    }

    private static string Evidence(GateEntry entry, string name) => Assert.Single(entry.Result.Evidence, e => e.Name == name).Observed!;

    [Fact]
    public async Task Promoting_a_ring_fails_for_a_tenant_inside_its_own_freeze_naming_tenant_and_window()
    {
        var entry = await RunAsync(g => g.AddTenantChangeWindowGate(ring: 1), TestTenants.MonthEnd);

        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains("tenant 'acme'", entry.Result.Reason);
        Assert.Contains("month-end close", Evidence(entry, "tenant:acme"));
        Assert.Equal("acme, globex", Evidence(entry, "reaches"));
        Assert.Equal("initech", Evidence(entry, "then"));
        Assert.DoesNotContain(entry.Result.Evidence, e => e.Name == "tenant:globex");
    }

    [Fact]
    public async Task Promoting_a_ring_outside_every_tenants_freeze_passes_and_names_who_it_reaches()
    {
        var entry = await RunAsync(g => g.AddTenantChangeWindowGate(ring: 1), TestTenants.MidMonth);
        Assert.Equal(Verdict.Pass, entry.Verdict);
        Assert.Equal("acme, globex", Evidence(entry, "reaches"));
    }

    [Fact]
    public async Task Strategic_tenant_fails_closed_when_the_previous_rings_health_is_unknown()
    {
        var entry = await RunAsync(g => g.AddTenantChangeWindowGate(ring: 2), TestTenants.MidMonth);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains("no IRingHealthSource is registered", Evidence(entry, "tenant:initech"));

        var unknown = await RunAsync(g => g.AddTenantChangeWindowGate(ring: 2), TestTenants.MidMonth, more: s => s.AddSingleton<IRingHealthSource>(new Health(null)));
        Assert.Equal(Verdict.Fail, unknown.Verdict);
        Assert.Contains("health is unknown", Evidence(unknown, "tenant:initech"));
    }

    [Theory]
    [InlineData(2, Verdict.Fail)]
    [InlineData(24, Verdict.Pass)]
    [InlineData(72, Verdict.Pass)]
    public async Task Strategic_tenant_needs_the_previous_ring_healthy_for_its_minimum_time(int healthyHours, Verdict expected)
    {
        var entry = await RunAsync(g => g.AddTenantChangeWindowGate(ring: 2), TestTenants.MidMonth, more: s => s.AddSingleton<IRingHealthSource>(new Health(TimeSpan.FromHours(healthyHours))));
        Assert.Equal(expected, entry.Verdict);
    }

    [Fact]
    public async Task Promoting_a_ring_without_tenants_is_inconclusive()
    {
        var entry = await RunAsync(g => g.AddTenantChangeWindowGate(ring: 7), TestTenants.MidMonth);
        Assert.Equal(Verdict.Inconclusive, entry.Verdict);
    }

    [Fact]
    public async Task Ring_out_of_range_fails_at_startup()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunAsync(g => g.AddTenantChangeWindowGate(ring: -2), TestTenants.MidMonth));
        Assert.Contains("TenantChangeWindowGateOptions.Ring is -2; allowed is 0 (canary) to 100", error.Message);
    }

    private const string ExposureFeatures = """
    {
      "feature_management": {
        "feature_flags": [
          { "id": "DarkInvoice", "enabled": true, "conditions": { "client_filters": [ { "name": "ReleaseKit.Ring", "parameters": { "MaxRing": 0 } } ] } },
          { "id": "WideInvoice", "enabled": true, "conditions": { "client_filters": [ { "name": "ReleaseKit.Ring", "parameters": { "MaxRing": 2 } } ] } },
          { "id": "AlwaysOn", "enabled": true },
          { "id": "Off", "enabled": false }
        ]
      }
    }
    """;

    [Fact]
    public async Task High_risk_feature_off_outside_the_reached_rings_passes()
    {
        var entry = await RunAsync(g => g.AddFeatureExposureGate(reachedRing: 0), TestTenants.MidMonth, Manifest(flags: ["DarkInvoice", "Off"]), featureJson: ExposureFeatures);
        Assert.Equal(Verdict.Pass, entry.Verdict);
        Assert.Equal("off outside the reached rings", Evidence(entry, "feature:DarkInvoice"));
    }

    [Fact]
    public async Task High_risk_feature_exposed_beyond_the_reached_ring_fails_naming_feature_and_ring()
    {
        var entry = await RunAsync(g => g.AddFeatureExposureGate(reachedRing: 0), TestTenants.MidMonth, Manifest(flags: ["WideInvoice"]), featureJson: ExposureFeatures);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains("feature 'WideInvoice' is on for ring 1", entry.Result.Reason);
        Assert.Contains("tenant 'acme' in ring 1", Evidence(entry, "feature:WideInvoice"));
    }

    [Fact]
    public async Task High_risk_feature_on_by_default_fails()
    {
        var entry = await RunAsync(g => g.AddFeatureExposureGate(reachedRing: 2), TestTenants.MidMonth, Manifest([ChangeClasses.SchemaMigration], ["AlwaysOn"]), featureJson: ExposureFeatures);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains("feature 'AlwaysOn' is on for a tenant with no ring (the default)", entry.Result.Reason);
    }

    [Fact]
    public async Task High_risk_feature_missing_from_configuration_fails()
    {
        var entry = await RunAsync(g => g.AddFeatureExposureGate(reachedRing: 1), TestTenants.MidMonth, Manifest(flags: ["Ghost"]), featureJson: ExposureFeatures);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains("feature 'Ghost' is not defined", entry.Result.Reason);
    }

    [Fact]
    public async Task Release_without_a_high_risk_change_class_passes_whatever_its_flags()
    {
        var entry = await RunAsync(g => g.AddFeatureExposureGate(reachedRing: 0), TestTenants.MidMonth, Manifest([ChangeClasses.Feature], ["AlwaysOn"]), featureJson: ExposureFeatures);
        Assert.Equal(Verdict.Pass, entry.Verdict);
    }

    [Fact]
    public async Task High_risk_change_classes_are_configurable()
    {
        var entry = await RunAsync(g => g.AddFeatureExposureGate(reachedRing: 0, o => o.HighRiskChangeClasses.Add(ChangeClasses.Feature)), TestTenants.MidMonth, Manifest([ChangeClasses.Feature], ["AlwaysOn"]), featureJson: ExposureFeatures);
        Assert.Equal(Verdict.Fail, entry.Verdict);
    }

    [Fact]
    public async Task Feature_exposure_without_FeatureManagement_is_inconclusive()
    {
        var entry = await RunAsync(g => g.AddFeatureExposureGate(reachedRing: 0), TestTenants.MidMonth, Manifest(flags: ["DarkInvoice"]));
        Assert.Equal(Verdict.Inconclusive, entry.Verdict);
    }

    private sealed class Health(TimeSpan? healthy) : IRingHealthSource
    {
        public ValueTask<TimeSpan?> GetHealthyDurationAsync(int ring, string environmentName, CancellationToken cancellationToken) =>
            ValueTask.FromResult(ring == 1 ? healthy : null);
    }
}
