using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class IsolationTests
{
    [Fact]
    public void Row_of_another_tenant_throws_naming_both_tenants()
    {
        using var provider = TestTenants.Build();
        using var _ = provider.GetRequiredService<ITenantContextAccessor>().Begin("acme");
        TenantIsolation.EnsureSameTenant("acme");
        var error = Assert.Throws<TenantIsolationException>(() => TenantIsolation.EnsureSameTenant("globex"));
        Assert.Equal("acme", error.AmbientTenantId);
        Assert.Equal("globex", error.RowTenantId);
        Assert.Contains("'acme'", error.Message);
        Assert.Contains("'globex'", error.Message);
    }

    [Fact]
    public void Row_touched_without_an_ambient_tenant_throws()
    {
        var error = Assert.Throws<TenantIsolationException>(() => TenantIsolation.EnsureSameTenant("globex"));
        Assert.Null(error.AmbientTenantId);
        Assert.Contains("no ambient tenant", error.Message);
    }

    [Fact]
    public void Violations_are_counted_on_the_packages_meter()
    {
        long count = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ReleaseKit.TenantContext" && instrument.Name == "releasekit.tenant.isolation_violations")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref count, value));
        listener.Start();

        Assert.Throws<TenantIsolationException>(() => TenantIsolation.EnsureSameTenant("globex"));
        Assert.Equal(1, Interlocked.Read(ref count));
    }

    [Fact]
    public async Task Leak_detector_reports_no_leak_for_code_that_keeps_to_its_tenant()
    {
        var rows = new Dictionary<string, string> { ["a"] = "a", ["b"] = "b", ["c"] = "c" };
        var report = await TenantLeakDetector.RunAsync(["a", "b", "c"], 200, async (tenant, ct) =>
        {
            await Task.Yield();
            TenantIsolation.EnsureSameTenant(rows[tenant]);
            await Task.Run(() => TenantIsolation.EnsureSameTenant(rows[tenant]), ct);
        }, TestContext.Current.CancellationToken);

        Assert.False(report.HasLeaks, report.ToString());
        Assert.Equal(600, report.Flows);
    }

    [Fact]
    public async Task Leak_detector_reports_code_that_reads_another_tenants_rows()
    {
        // A cache shared across tenants without a tenant key: the classic leak.
        string? lastLoaded = null;
        var report = await TenantLeakDetector.RunAsync(["a", "b", "c", "d"], 100, async (tenant, _) =>
        {
            lastLoaded ??= tenant;
            await Task.Yield();
            TenantIsolation.EnsureSameTenant(lastLoaded);
        }, TestContext.Current.CancellationToken);

        Assert.True(report.HasLeaks);
        Assert.Contains(report.Leaks, l => l.ExpectedTenantId != l.ObservedTenantId);
    }

    [Fact]
    public async Task Leak_detector_reports_code_that_changes_the_ambient_tenant_and_leaves_it_changed()
    {
        var report = await TenantLeakDetector.RunAsync(["a", "b"], 10, (tenant, _) =>
        {
            // Not disposed: a scope that escapes is a leak (synchronous code shares the flow with its caller).
            new TenantSnapshot(tenant == "a" ? "b" : "a").Restore();
            return Task.CompletedTask;
        }, TestContext.Current.CancellationToken);

        Assert.Equal(20, report.Leaks.Count);
        Assert.Contains("changed during the flow", report.Leaks[0].Detail);
    }
}
