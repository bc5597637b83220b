using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;

namespace ReleaseKit.HealthCriteria.Tests;

/// <summary>An app records latency and invoice exports through real <see cref="Meter"/> instruments; the health gate judges each release.</summary>
public sealed class EndToEndTests
{
    private static readonly DateTimeOffset Deploy = new(2025, 1, 6, 8, 0, 0, TimeSpan.Zero);

    /// <summary>The app's own instruments, as it would declare them.</summary>
    private sealed class BillingApp : IDisposable
    {
        public BillingApp(string meterName)
        {
            Meter = new Meter(meterName);
            Duration = Meter.CreateHistogram<double>("http.server.request.duration", "s");
            Exports = Meter.CreateCounter<long>("invoice.exports", "{invoice}");
            FailedExports = Meter.CreateCounter<long>("invoice.exports.failed", "{invoice}");
        }

        public Meter Meter { get; }

        public Histogram<double> Duration { get; }

        public Counter<long> Exports { get; }

        public Counter<long> FailedExports { get; }

        /// <summary>One minute of traffic: requests with latency, and invoice exports of which some fail.</summary>
        public void Minute(Random random, FakeTimeProvider time, int requests, int exports, double failureRate)
        {
            for (var i = 0; i < requests; i++)
            {
                Duration.Record(0.05 * Math.Exp(0.5 * Distributions.Normal(random)), new KeyValuePair<string, object?>("tenant.tier", i % 4 == 0 ? "dedicated" : "pooled"));
            }

            for (var i = 0; i < exports; i++)
            {
                Exports.Add(1);
                if (random.NextDouble() < failureRate)
                {
                    FailedExports.Add(1);
                }
            }

            time.Advance(TimeSpan.FromMinutes(1));
        }

        public void Dispose() => Meter.Dispose();
    }

    private static ServiceProvider Build(string release, string meterName, FakeTimeProvider time, IHealthBaselineStore store)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(store);
        services.AddReleaseKit()
            .AddHealthCriteria(o =>
            {
                o.ReleaseId = release;
                o.Capture("http.server.request.duration", meterName: meterName)
                 .Capture("invoice.exports", BusinessIndicators.InvoiceExports.Name, meterName)
                 .Capture("invoice.exports.failed", BusinessIndicators.FailedInvoiceExports.Name, meterName)
                 .Capture("erp.sync.errors", BusinessIndicators.ErpSyncErrors.Name, meterName); // never published
                o.Add(new ThresholdCriterion("invoice-export-failures", BusinessIndicators.FailedInvoiceExports.Name, HealthStatistic.Rate)
                {
                    Denominator = BusinessIndicators.InvoiceExports.Name,
                    AtMost = 0.02,
                    Critical = true,
                    MinimumSampleSize = 200,
                });
                o.Add(new ThresholdCriterion("p99-latency", "http.server.request.duration", HealthStatistic.Quantile) { Quantile = 0.99, AtMost = 0.5, MaxRelativeIncrease = 0.10, MinimumSampleSize = 200 });
                o.Add(new BaselineComparisonCriterion("latency-vs-previous", "http.server.request.duration") { MinimumSampleSize = 200 });
            })
            .AddGates(g => g.AddReleaseHealthGate());
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private static async Task<GateReport> RunGateAsync(ServiceProvider provider, string release) =>
        await provider.GetRequiredService<IReleaseGateRunner>().RunAsync(
            new GateRunRequest { Manifest = new ReleaseManifest { ReleaseId = release, Version = release }, EnvironmentName = "production", Stages = [GateStage.PostDeploy] },
            TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_release_that_raises_the_invoice_export_failure_rate_is_rolled_back_with_the_evidence()
    {
        var store = new InMemoryHealthBaselineStore();
        var meterName = $"Billing.App.{Guid.NewGuid():N}";
        var random = new Random(42);

        // Release 1.0: a good first hour, stored by the gate as the baseline once the window is complete.
        var time = new FakeTimeProvider(Deploy);
        using (var app = new BillingApp(meterName))
        await using (var previous = Build("1.0", meterName, time, store))
        {
            previous.GetRequiredService<ReleaseHealthMonitor>();
            for (var m = 0; m < 60; m++)
            {
                app.Minute(random, time, requests: 20, exports: 10, failureRate: 0.005);
            }

            var report = await RunGateAsync(previous, "1.0");
            Assert.Equal(Verdict.Inconclusive, report.Verdict); // healthy thresholds, but no baseline for the comparisons yet
            Assert.NotNull(await store.FindBaselineAsync(ReleaseWindow.FirstHourName, "1.1", TestContext.Current.CancellationToken));
        }

        // Release 1.1: one in ten invoice exports fails.
        time = new FakeTimeProvider(Deploy.AddDays(1));
        // Other tests in this assembly evaluate in parallel on the same ActivitySource: keep only this release's
        // activities, and collect them in a thread-safe bag.
        var events = new System.Collections.Concurrent.ConcurrentQueue<ActivityEvent>();
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "ReleaseKit.HealthCriteria",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if ((string?)a.GetTagItem(HealthTelemetryTags.ReleaseId) == "1.1")
                {
                    foreach (var e in a.Events)
                    {
                        events.Enqueue(e);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using (var app = new BillingApp(meterName))
        await using (var bad = Build("1.1", meterName, time, store))
        {
            var monitor = bad.GetRequiredService<ReleaseHealthMonitor>();
            for (var m = 0; m < 60; m++)
            {
                app.Minute(random, time, requests: 20, exports: 10, failureRate: 0.10);
            }

            var report = await RunGateAsync(bad, "1.1");
            var gate = Assert.Single(report.Entries);
            Assert.Equal(Verdict.Fail, report.Verdict);
            Assert.Contains("RollBack", gate.Result.Reason);
            Assert.Contains(gate.Result.Evidence, e => e.Name == "invoice-export-failures" && e.Observed == "fail (critical)");
            var observed = gate.Result.Evidence.Single(e => e.Name == "invoice-export-failures.observed");
            Assert.InRange(double.Parse(observed.Observed!, System.Globalization.CultureInfo.InvariantCulture), 0.07, 0.13);
            Assert.Equal("0.02", observed.Threshold);
            Assert.Equal("600", gate.Result.Evidence.Single(e => e.Name == "invoice-export-failures.sample_size").Observed);
            Assert.Contains(gate.Result.Evidence, e => e.Name == "capture.billing.erp_syncs.failed.instrument_not_found");

            // The latency did not change: its criteria pass against the baseline of release 1.0.
            var direct = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName), await store.FindBaselineAsync(ReleaseWindow.FirstHourName, "1.1", TestContext.Current.CancellationToken));
            Assert.Equal(HealthVerdict.RollBack, direct.Verdict);
            Assert.Equal(Verdict.Pass, direct["p99-latency"].Verdict);
            Assert.Equal(Verdict.Pass, direct["latency-vs-previous"].Verdict);
            Assert.Equal(1200, direct["latency-vs-previous"].SampleSize);
            Assert.Equal(["dedicated", "pooled"], monitor.Find("http.server.request.duration")!.Tiers.Order());
        }

        listener.Dispose();
        Assert.Contains(events, e => e.Name == HealthTelemetryTags.VerdictEvent && (string?)e.Tags.First(t => t.Key == HealthTelemetryTags.HealthVerdict).Value == "RollBack");
        Assert.Contains(events, e => e.Name == HealthTelemetryTags.CriterionEvent && (string?)e.Tags.First(t => t.Key == HealthTelemetryTags.Criterion).Value == "invoice-export-failures");
    }

    [Fact]
    public async Task A_quiet_release_with_too_few_samples_is_inconclusive()
    {
        var store = new InMemoryHealthBaselineStore();
        var meterName = $"Billing.App.{Guid.NewGuid():N}";
        var time = new FakeTimeProvider(Deploy);
        using var app = new BillingApp(meterName);
        await using var provider = Build("1.2", meterName, time, store);
        var monitor = provider.GetRequiredService<ReleaseHealthMonitor>();
        var random = new Random(7);
        for (var m = 0; m < 60; m++)
        {
            app.Minute(random, time, requests: 1, exports: m % 10 == 0 ? 1 : 0, failureRate: 0);
        }

        var report = await RunGateAsync(provider, "1.2");
        Assert.Equal(Verdict.Inconclusive, report.Verdict);
        var direct = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));
        Assert.Equal(HealthVerdict.Inconclusive, direct.Verdict);
        Assert.Equal(Verdict.Inconclusive, direct["invoice-export-failures"].Verdict);
        Assert.Equal(6, direct["invoice-export-failures"].SampleSize);
        Assert.Contains("Too little data", direct["invoice-export-failures"].Reason);
    }

    [Fact]
    public void Counters_that_go_backwards_and_NaN_measurements_are_counted_and_reported()
    {
        var meterName = $"Billing.App.{Guid.NewGuid():N}";
        var time = new FakeTimeProvider(Deploy);
        using var meter = new Meter(meterName);
        long exported = 100;
        meter.CreateObservableCounter("exports.total", () => exported);
        var backlog = 0.0;
        meter.CreateObservableGauge("queue.backlog", () => backlog);
        var duration = meter.CreateHistogram<double>("job.duration", "s");
        var options = new ReleaseHealthOptions();
        options.Capture("exports.total", "exports", meterName).Capture("queue.backlog", BusinessIndicators.QueueBacklog.Name, meterName).Capture("job.duration", meterName: meterName);
        using var monitor = new ReleaseHealthMonitor(Microsoft.Extensions.Options.Options.Create(options), time);

        monitor.ObserveInstruments(); // first observation: the starting point
        exported = 150;
        backlog = 12;
        monitor.ObserveInstruments(); // +50
        exported = 20; // the process restarted
        backlog = 3;
        monitor.ObserveInstruments(); // reset: +20
        duration.Record(double.NaN);
        duration.Record(-1);
        duration.Record(0.2);
        time.Advance(TimeSpan.FromMinutes(5));

        var report = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));
        var exports = monitor.Find("exports")!;
        Assert.Equal(70, exports.Aggregate(Deploy, time.GetUtcNow()).Total);
        Assert.Equal(1, exports.CounterResets);
        Assert.Contains(report.DataIssues, e => e.Name == "signal.exports.counter_resets" && e.Observed == "1");
        Assert.Contains(report.DataIssues, e => e.Name == "signal.job.duration.rejected_values" && e.Observed!.StartsWith("1 NaN, 1 negative"));
        Assert.Equal(3, monitor.Find(BusinessIndicators.QueueBacklog.Name)!.Aggregate(Deploy, time.GetUtcNow()).Last);
        Assert.Equal(HealthVerdict.Inconclusive, report.Verdict); // no criterion declared: nothing was judged
    }

    [Fact]
    public void Adding_health_criteria_twice_registers_the_monitor_once()
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddHealthCriteria(_ => { }).AddHealthCriteria(_ => { });
        Assert.Single(services, d => d.ServiceType == typeof(ReleaseHealthMonitor));
        Assert.Single(services, d => d.ServiceType == typeof(IHealthBaselineStore));
    }
}
