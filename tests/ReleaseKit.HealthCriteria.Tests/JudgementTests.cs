using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;

namespace ReleaseKit.HealthCriteria.Tests;

public sealed class JudgementTests
{
    private static readonly DateTimeOffset Deploy = new(2025, 1, 6, 8, 0, 0, TimeSpan.Zero);

    private static (ReleaseHealthMonitor Monitor, FakeTimeProvider Time) Create(Action<ReleaseHealthOptions> configure, string release = "1.1")
    {
        var time = new FakeTimeProvider(Deploy);
        var options = new ReleaseHealthOptions { ReleaseId = release };
        configure(options);
        return (new ReleaseHealthMonitor(Options.Create(options), time), time);
    }

    [Fact]
    public void Burn_rate_factors_are_derived_from_the_budget_percentages_and_the_period()
    {
        var factors = BurnRateAlert.SreWorkbookDefaults().Select(a => a.Factor(TimeSpan.FromDays(30))).ToArray();
        Assert.Equal(14.4, factors[0], 1e-12);
        Assert.Equal(6, factors[1], 1e-12);
        Assert.Equal(1, factors[2], 1e-12);
        Assert.Equal(2 * 14.4, BurnRateAlert.SreWorkbookDefaults()[0].Factor(TimeSpan.FromDays(60)), 1e-12);
    }

    [Fact]
    public void A_fast_burn_over_both_windows_fails_the_burn_rate_criterion()
    {
        var (monitor, time) = Create(o => o.Add(new BurnRateCriterion("availability", "errors", "requests", 0.999) { Critical = true }));
        using (monitor)
        {
            Traffic(monitor, time, minutes: 60, requestsPerMinute: 1000, errorsPerMinute: 20); // 2% errors = 20× a 0.1% budget
            var report = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));
            Assert.Equal(Verdict.Fail, report["availability"].Verdict);
            Assert.Equal(HealthVerdict.RollBack, report.Verdict);
            Assert.Equal(20, report["availability"].Observed!.Value, 1e-9);
            Assert.Equal(14.4, report["availability"].Threshold!.Value, 1e-9);
        }
    }

    [Fact]
    public void A_burst_that_stopped_does_not_page_but_the_three_day_alert_raises_a_ticket()
    {
        var (monitor, time) = Create(o => o.Add(new BurnRateCriterion("availability", "errors", "requests", 0.999) { Critical = true }));
        using (monitor)
        {
            Traffic(monitor, time, minutes: 30, requestsPerMinute: 1000, errorsPerMinute: 40);
            Traffic(monitor, time, minutes: 35, requestsPerMinute: 1000, errorsPerMinute: 0);
            var result = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstDayName))["availability"];
            Assert.Equal(Verdict.Warn, result.Verdict); // the 5 min and 30 min windows are clean; the 6 h one still burns ≥ 1×
            Assert.Contains("72h/360m", result.Reason);
        }
    }

    [Fact]
    public void A_burn_rate_on_too_little_traffic_is_inconclusive()
    {
        var (monitor, time) = Create(o => o.Add(new BurnRateCriterion("availability", "errors", "requests", 0.999) { MinimumSampleSize = 500 }));
        using (monitor)
        {
            Traffic(monitor, time, minutes: 10, requestsPerMinute: 10, errorsPerMinute: 0);
            Assert.Equal(HealthVerdict.Inconclusive, monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName)).Verdict);
        }
    }

    [Property(MaxTest = 40)]
    public bool Below_the_minimum_sample_size_a_threshold_is_inconclusive_never_pass(PositiveInt minimum, NonNegativeInt recorded)
    {
        var min = 1 + (minimum.Get % 200);
        var n = recorded.Get % min; // always below the minimum
        var (monitor, _) = Create(o => o.Add(new ThresholdCriterion("p99", "latency", HealthStatistic.Quantile) { AtMost = 1e9, MinimumSampleSize = min }));
        using (monitor)
        {
            var latency = monitor.Signal(new SignalDefinition("latency", SignalKind.Distribution, "s"));
            for (var i = 0; i < n; i++)
            {
                latency.Record(0.01);
            }

            var report = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));
            return report["p99"].Verdict == Verdict.Inconclusive && report.Verdict == HealthVerdict.Inconclusive && report["p99"].SampleSize == n;
        }
    }

    [Fact]
    public void A_p99_more_than_ten_percent_over_the_baseline_fails_with_both_values_in_the_evidence()
    {
        var criterion = new ThresholdCriterion("p99-latency", "latency", HealthStatistic.Quantile) { Quantile = 0.99, MaxRelativeIncrease = 0.10 };
        var baseline = LatencySnapshot("1.0", scale: 1.0, seed: 1);
        var (monitor, time) = Create(o => o.Add(criterion));
        using (monitor)
        {
            RecordLatency(monitor, time, scale: 1.3, seed: 2);
            var report = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName), baseline);
            var result = report["p99-latency"];
            Assert.Equal(Verdict.Fail, result.Verdict);
            Assert.Equal(result.Baseline!.Value * 1.1, result.Threshold!.Value, 1e-9);
            Assert.True(result.Observed > result.Threshold);
            Assert.Equal(2000, result.BaselineSampleSize);

            var noBaseline = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));
            Assert.Equal(Verdict.Inconclusive, noBaseline["p99-latency"].Verdict);
        }
    }

    [Theory]
    [InlineData(1.3, Verdict.Fail)]
    [InlineData(1.0, Verdict.Pass)]
    [InlineData(0.7, Verdict.Pass)] // faster is not bad when an increase is bad
    [InlineData(1.02, Verdict.Pass)] // a 2% shift is within the 5% effect bound, whatever its p-value
    public void The_comparison_with_the_previous_release_fails_only_on_a_significant_and_large_bad_shift(double scale, Verdict expected)
    {
        var baseline = LatencySnapshot("1.0", scale: 1.0, seed: 1);
        var (monitor, time) = Create(o => o.Add(new BaselineComparisonCriterion("latency-vs-previous", "latency")));
        using (monitor)
        {
            RecordLatency(monitor, time, scale, seed: 1); // same draws, scaled: the shift is exactly the scale
            var result = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName), baseline)["latency-vs-previous"];
            Assert.Equal(expected, result.Verdict);
            Assert.NotNull(result.PValue);
            Assert.Equal((2000L, 2000L), (result.SampleSize, result.BaselineSampleSize!.Value));
            Assert.Contains("Hodges-Lehmann", result.Statistic);
        }
    }

    [Fact]
    public void An_empty_baseline_is_inconclusive_not_a_pass()
    {
        var (monitor, time) = Create(o => o.Add(new BaselineComparisonCriterion("latency-vs-previous", "latency")));
        using (monitor)
        {
            RecordLatency(monitor, time, 1.0, seed: 3);
            var empty = new WindowSnapshot("1.0", ReleaseWindow.FirstHourName, Deploy, Deploy.AddHours(1), []);
            Assert.Equal(HealthVerdict.Inconclusive, monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName), empty).Verdict);
        }
    }

    [Property(MaxTest = 100)]
    public bool The_verdict_follows_the_combination_rules((Verdict Verdict, bool Critical, PositiveInt Weight, bool Muted)[] criteria)
    {
        var results = criteria.Select((c, i) => new ThresholdCriterion($"c{i}", "s", HealthStatistic.Total) { Critical = c.Critical, Weight = c.Weight.Get % 5 + 1, Muted = c.Muted }
            .Result(c.Verdict, "generated", 100)).ToList();
        var (verdict, _) = ReleaseHealthMonitor.Combine(results, 0.5);
        var counted = results.Where(r => !r.Muted).ToList();
        if (counted.Count == 0)
        {
            return verdict == HealthVerdict.Inconclusive;
        }

        var failingWeight = counted.Where(r => r.Verdict == Verdict.Fail).Sum(r => r.Weight);
        var expected =
            counted.Any(r => r.Critical && r.Verdict == Verdict.Fail) || (failingWeight > 0 && failingWeight >= 0.5 * counted.Sum(r => r.Weight)) ? HealthVerdict.RollBack
            : counted.Any(r => r.Verdict == Verdict.Inconclusive) ? HealthVerdict.Inconclusive
            : counted.Any(r => r.Verdict is Verdict.Fail or Verdict.Warn) ? HealthVerdict.Degraded
            : HealthVerdict.Healthy;
        return verdict == expected && (verdict != HealthVerdict.Healthy || counted.All(r => r.Verdict == Verdict.Pass));
    }

    [Fact]
    public void Invalid_options_fail_at_startup_naming_the_option_and_the_allowed_values()
    {
        var options = new ReleaseHealthOptions { SliceWidth = TimeSpan.FromMinutes(7), RelativeAccuracy = 2 };
        options.Add(new ThresholdCriterion("rate", "failed", HealthStatistic.Rate) { AtMost = 0.1 });
        options.Add(new BurnRateCriterion("slo", "bad", "all", 1.5));
        var ex = Assert.Throws<OptionsValidationException>(() => new ReleaseHealthMonitor(Options.Create(options), new FakeTimeProvider()));
        Assert.Contains("SliceWidth must divide one hour", ex.Message);
        Assert.Contains("relative accuracy must be in (0, 0.5]", ex.Message);
        Assert.Contains("a Rate needs a Denominator", ex.Message);
        Assert.Contains("Objective must be in (0, 1)", ex.Message);
    }

    private static void Traffic(ReleaseHealthMonitor monitor, FakeTimeProvider time, int minutes, int requestsPerMinute, int errorsPerMinute)
    {
        var requests = monitor.Signal(new SignalDefinition("requests", SignalKind.Counter));
        var errors = monitor.Signal(new SignalDefinition("errors", SignalKind.Counter));
        for (var m = 0; m < minutes; m++)
        {
            requests.Add(requestsPerMinute);
            errors.Add(errorsPerMinute);
            time.Advance(TimeSpan.FromMinutes(1));
        }
    }

    private static void RecordLatency(ReleaseHealthMonitor monitor, FakeTimeProvider time, double scale, int seed)
    {
        var latency = monitor.Signal(new SignalDefinition("latency", SignalKind.Distribution, "s"));
        var values = Distributions.LogNormal(new Random(seed), 2000);
        for (var i = 0; i < values.Length; i++)
        {
            latency.Record(values[i] * scale);
            if (i % 50 == 49)
            {
                time.Advance(TimeSpan.FromMinutes(1));
            }
        }
    }

    private static WindowSnapshot LatencySnapshot(string release, double scale, int seed)
    {
        var (monitor, time) = Create(_ => { }, release);
        using (monitor)
        {
            RecordLatency(monitor, time, scale, seed);
            time.Advance(TimeSpan.FromHours(1));
            return WindowSnapshot.FromBytes(monitor.Snapshot(monitor.Window(ReleaseWindow.FirstHourName)).ToBytes());
        }
    }
}
