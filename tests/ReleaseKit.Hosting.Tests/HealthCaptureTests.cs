using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.HealthCriteria;

namespace ReleaseKit.Hosting.Tests;

/// <summary><c>AddHosting()</c> starts the release health monitor with the host, so it sees the traffic from the first request on.</summary>
public sealed class HealthCaptureTests
{
    private static readonly DateTimeOffset Deploy = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    private static TestApp App(Meter meter, FakeTimeProvider time, bool hosting) => new((services, releaseKit) =>
    {
        services.AddSingleton<TimeProvider>(time);
        if (hosting)
        {
            releaseKit.AddHosting();
        }

        releaseKit.AddHealthCriteria(o =>
        {
            o.ReleaseId = "2026.11.27-1";
            o.Capture("invoice.exports", "invoice.exports", meter.Name);
            o.Add(new ThresholdCriterion("export-volume", "invoice.exports", HealthStatistic.Total) { AtLeast = 1, MinimumSampleSize = 0 });
        });
    });

    [Theory]
    [InlineData(true, 5L)]
    [InlineData(false, 0L)]
    public async Task The_monitor_starts_with_the_host_and_counts_what_happened_before_anyone_asked_for_it(bool hosting, long expected)
    {
        using var meter = new Meter($"Billing.Capture.{Guid.NewGuid():N}");
        var exports = meter.CreateCounter<long>("invoice.exports");
        var time = new FakeTimeProvider(Deploy);
        using var app = App(meter, time, hosting);
        await app.Host.StartAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 5; i++)
        {
            exports.Add(1);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var monitor = app.Services.GetRequiredService<ReleaseHealthMonitor>();
        var report = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));
        await app.Host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(expected == 0 ? Deploy.AddMinutes(5) : Deploy, monitor.DeployedAt);
        Assert.Equal(expected, (long)(report["export-volume"].Observed ?? 0));
    }
}
