using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ReleaseKit.HealthCriteria.Tests;

/// <summary><see cref="CriterionResult.Series"/>: the judged statistic per time slice of the window, for charts.</summary>
public sealed class CriterionSeriesTests
{
    private static readonly DateTimeOffset Deploy = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);

    private static (ReleaseHealthMonitor Monitor, FakeTimeProvider Time) Create(params HealthCriterion[] criteria)
    {
        var time = new FakeTimeProvider(Deploy);
        var options = new ReleaseHealthOptions { ReleaseId = "r-2" };
        foreach (var criterion in criteria)
        {
            options.Add(criterion);
        }

        return (new ReleaseHealthMonitor(Options.Create(options), time), time);
    }

    [Fact]
    public void A_rate_criterion_has_one_point_per_minute_slice_with_that_slice_s_rate_and_events()
    {
        var (monitor, time) = Create(new ThresholdCriterion("failures", "failed", HealthStatistic.Rate) { Denominator = "exports", AtMost = 0.1, MinimumSampleSize = 1 });
        using var _ = monitor;
        var exports = monitor.Signal(new SignalDefinition("exports", SignalKind.Counter));
        var failed = monitor.Signal(new SignalDefinition("failed", SignalKind.Counter));
        int[] failuresPerMinute = [0, 1, 3, 0, 6];
        foreach (var failures in failuresPerMinute)
        {
            exports.Add(12);
            if (failures > 0)
            {
                failed.Add(failures); // a minute without failures leaves no slice of 'failed': its rate is still 0
            }

            time.Advance(TimeSpan.FromMinutes(1));
        }

        var series = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName))["failures"].Series;

        Assert.Equal(failuresPerMinute.Select(f => f / 12.0), series.Select(p => p.Value));
        Assert.Equal(Enumerable.Range(0, 5).Select(m => Deploy.AddMinutes(m)), series.Select(p => p.Start));
        Assert.All(series, p => Assert.Equal(12, p.SampleSize));
        Assert.All(series, p => Assert.Equal(TimeSpan.FromMinutes(1), p.Width));
    }

    [Fact]
    public void A_total_criterion_charts_the_running_total_and_a_burn_rate_criterion_the_burn_of_each_slice()
    {
        var (monitor, time) = Create(
            new ThresholdCriterion("backlog-total", "failed", HealthStatistic.Total) { AtMost = 100, MinimumSampleSize = 0 },
            new BurnRateCriterion("budget", "failed", "exports", 0.99) { MinimumSampleSize = 1 });
        using var _ = monitor;
        var exports = monitor.Signal(new SignalDefinition("exports", SignalKind.Counter));
        var failed = monitor.Signal(new SignalDefinition("failed", SignalKind.Counter));
        foreach (var failures in new[] { 2, 0, 5 })
        {
            exports.Add(100);
            failed.Add(failures);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var report = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));

        Assert.Equal([2.0, 2.0, 7.0], report["backlog-total"].Series.Select(p => p.Value));
        Assert.Equal([2.0, 0.0, 5.0], report["budget"].Series.Select(p => Math.Round(p.Value, 9))); // (failures / 100) / (1 - 0.99)
    }

    [Fact]
    public void A_signal_that_recorded_nothing_in_the_window_has_an_empty_series()
    {
        var (monitor, _) = Create(new ThresholdCriterion("p99", "latency", HealthStatistic.Quantile) { AtMost = 1, MinimumSampleSize = 1 });
        using var __ = monitor;

        Assert.Empty(monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName))["p99"].Series);
    }
}
