using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class TenantStoreTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Configured_tenants_become_profiles_with_tier_region_ring_and_change_windows()
    {
        using var provider = TestTenants.Build();
        var acme = await provider.GetRequiredService<ITenantProfileProvider>().GetAsync("ACME", Ct);
        Assert.Equal("acme", acme.Id);
        Assert.Equal(TenantTier.DedicatedDatabase, acme.Tier);
        Assert.Equal("eu-west", acme.Region);
        Assert.Equal(1, acme.Ring);
        var windows = Assert.IsType<TenantChangeWindows>(acme.ChangeWindows);
        Assert.Equal("month-end close", Assert.Single(windows.Deny).Name);
        Assert.False(windows.IsChangeAllowed(TestTenants.MonthEnd, out var blocking));
        Assert.Equal("month-end close", blocking!.Name);
        Assert.True(windows.IsChangeAllowed(TestTenants.MidMonth, out _));
    }

    [Fact]
    public async Task Unknown_tenant_id_gives_an_error_naming_it()
    {
        using var provider = TestTenants.Build();
        var error = await Assert.ThrowsAsync<UnknownTenantException>(async () => await provider.GetRequiredService<ITenantProfileProvider>().GetAsync("umbrella", Ct));
        Assert.Equal("umbrella", error.TenantId);
        Assert.Contains("'umbrella'", error.Message);
    }

    [Fact]
    public void Options_bound_from_configuration_report_duplicate_ids_unknown_tier_and_bad_zone_at_startup()
    {
        var configuration = TestTenants.Json("""
        {
          "Tenants": [
            { "Id": "acme", "Tier": "DedicatedDatabase", "Ring": 1 },
            { "Id": "ACME", "Tier": "Galactic", "Ring": 2 },
            { "Id": "globex", "Tier": "Shared", "Ring": -1, "ChangeWindows": { "TimeZoneId": "Mars/Olympus" } },
            { "Id": "initech", "Tier": "Regional" }
          ]
        }
        """);
        var services = new ServiceCollection();
        services.AddReleaseKit().AddTenantContext();
        services.AddOptions<TenantContextOptions>().Configure(o => configuration.Bind(o));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Tenants[1] ('ACME'): Id 'ACME' is a duplicate", error.Message);
        Assert.Contains("Tenants[1] ('ACME').Tier is 'Galactic'; allowed values are Shared, Pooled, DedicatedDatabase, Regional", error.Message);
        Assert.Contains("Tenants[2] ('globex').Ring is -1", error.Message);
        Assert.Contains("Tenants[2] ('globex').ChangeWindows: Time zone 'Mars/Olympus' is not known", error.Message);
        Assert.Contains("Tenants[3] ('initech').Region is missing; the Regional tier needs a region", error.Message);
    }

    [Fact]
    public async Task Tenants_bound_from_configuration_get_their_calendar_and_month_end_freeze()
    {
        var configuration = TestTenants.Json("""
        { "Tenants": [ { "Id": "acme", "Tier": "pooled", "Ring": 2, "MonthEndFreezeBusinessDays": 3,
                         "Holidays": [ "2028-05-31" ],
                         "ChangeWindows": { "TimeZoneId": "Europe/Berlin" } } ] }
        """);
        var services = new ServiceCollection();
        services.AddReleaseKit().AddTenantContext();
        services.AddOptions<TenantContextOptions>().Configure(o => configuration.Bind(o));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var acme = await provider.GetRequiredService<ITenantProfileProvider>().GetAsync("acme", Ct);
        Assert.Equal(TenantTier.Pooled, acme.Tier);
        var windows = acme.ChangeWindows!;
        Assert.Equal("Europe/Berlin", windows.Calendar.TimeZone.Id);
        Assert.Equal([new DateOnly(2028, 5, 31)], windows.Calendar.Holidays);
        // May 31st is a holiday, so the last 3 business days are May 26, 29 and 30: the 25th is open, the 26th frozen.
        Assert.True(windows.IsChangeAllowed(new DateTimeOffset(2028, 5, 25, 10, 0, 0, TimeSpan.Zero), out _));
        Assert.False(windows.IsChangeAllowed(new DateTimeOffset(2028, 5, 26, 10, 0, 0, TimeSpan.Zero), out var blocking));
        Assert.Equal("month-end close", blocking!.Name);
    }

    [Fact]
    public void Invalid_change_window_rule_is_reported_at_startup_naming_the_tenant()
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddTenantContext(o => o.AddTenant("acme", t => t.Freeze("close", WindowRule.LastBusinessDaysOfMonth(40), "Europe/Berlin")));
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("('acme').ChangeWindows: Change window 'close' is invalid", error.Message);
        Assert.Contains("allowed is 1 to 31", error.Message);
    }

    [Fact]
    public async Task App_store_results_are_cached_for_the_configured_lifetime()
    {
        var time = new FakeTimeProvider(TestTenants.MidMonth);
        var store = new CountingStore();
        using var provider = TestTenants.Build(s => s.AddSingleton<ITenantStore>(store), o => o.CacheDuration = TimeSpan.FromMinutes(1), time);
        var profiles = provider.GetRequiredService<ITenantProfileProvider>();

        await profiles.GetAsync("acme", Ct);
        await profiles.GetAsync("acme", Ct);
        Assert.Null(await profiles.FindAsync("nobody", Ct));
        Assert.Null(await profiles.FindAsync("nobody", Ct));
        Assert.Equal(2, store.Finds);

        time.Advance(TimeSpan.FromSeconds(61));
        await profiles.GetAsync("acme", Ct);
        Assert.Equal(3, store.Finds);
    }

    internal sealed class CountingStore : ITenantStore
    {
        private int _finds;

        public int Finds => _finds;

        public ValueTask<TenantProfile?> FindAsync(string tenantId, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _finds);
            return ValueTask.FromResult(tenantId == "acme" ? new TenantProfile { Id = "acme", Ring = 1 } : null);
        }

        public ValueTask<IReadOnlyList<TenantProfile>> ListAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<TenantProfile>>([new TenantProfile { Id = "acme", Ring = 1 }]);
    }
}
