using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.HealthCriteria;

namespace ReleaseKit.Hosting.Tests;

public sealed class HealthCommandTests
{
    private static readonly DateTimeOffset Deploy = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);

    /// <summary>An app whose invoice exports are counted by a real <see cref="Meter"/>, judged by the real monitor.</summary>
    private sealed class HealthApp : IDisposable
    {
        private readonly Meter _meter;
        private readonly Counter<long> _exports;
        private readonly Counter<long> _failed;

        public HealthApp(IHealthBaselineStore? store = null)
        {
            var meterName = $"Billing.Hosting.{Guid.NewGuid():N}";
            _meter = new Meter(meterName);
            _exports = _meter.CreateCounter<long>("invoice.exports");
            _failed = _meter.CreateCounter<long>("invoice.exports.failed");
            App = new TestApp((services, releaseKit) =>
            {
                services.AddSingleton<TimeProvider>(Time);
                if (store is not null)
                {
                    services.AddSingleton(store);
                }

                releaseKit.AddHealthCriteria(o =>
                {
                    o.ReleaseId = "2026.11.27-1";
                    o.Capture("invoice.exports", "invoice.exports", meterName)
                     .Capture("invoice.exports.failed", "invoice.exports.failed", meterName);
                    o.Add(new ThresholdCriterion("invoice-export-failures", "invoice.exports.failed", HealthStatistic.Rate)
                    {
                        Denominator = "invoice.exports",
                        AtMost = 0.02,
                        Critical = true,
                        MinimumSampleSize = 100,
                    });
                });
            });
            App.Services.GetRequiredService<ReleaseHealthMonitor>();
        }

        public FakeTimeProvider Time { get; } = new(Deploy);

        public TestApp App { get; }

        public void Exports(int count, int failed)
        {
            for (var i = 0; i < count; i++)
            {
                _exports.Add(1);
                if (i < failed)
                {
                    _failed.Add(1);
                }

                Time.Advance(TimeSpan.FromSeconds(10));
            }
        }

        public void Dispose()
        {
            App.Dispose();
            _meter.Dispose();
        }
    }

    [Fact]
    public async Task A_healthy_first_hour_exits_0_with_the_criterion_evidence()
    {
        using var app = new HealthApp();
        app.Exports(300, failed: 1);

        var run = await app.App.RunAsync("health", "--window", "first-hour");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("HEALTHY", run.Output);
        Assert.Contains("invoice-export-failures", run.Output);
    }

    [Fact]
    public async Task A_critical_criterion_breached_means_roll_back_and_exit_1()
    {
        using var app = new HealthApp();
        app.Exports(300, failed: 60);

        var run = await app.App.RunAsync("health");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("ROLLBACK", run.Output);
    }

    [Fact]
    public async Task Too_little_data_is_inconclusive_and_exits_1()
    {
        using var app = new HealthApp();
        app.Exports(5, failed: 0);

        var run = await app.App.RunAsync("health", "--window", "first-day");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("INCONCLUSIVE", run.Output);
    }

    [Fact]
    public async Task An_unknown_window_or_a_billing_cycle_without_a_calendar_exits_with_2()
    {
        using var app = new HealthApp();

        var unknown = await app.App.RunAsync("health", "--window", "first-week");
        var billing = await app.App.RunAsync("health", "--window", "billing-cycle");

        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("first-week", unknown.Error);
        Assert.True(billing.ExitCode == 2, billing.ToString());
        Assert.Contains("billing", billing.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Health_without_ReleaseKit_HealthCriteria_exits_with_2_and_says_how_to_register_it()
    {
        using var app = TestApp.WithGates(g => g.AddGate("ok", _ => Gates.GateResult.Pass()));

        var run = await app.RunAsync("health");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("AddHealthCriteria", run.Error);
    }

    [Fact]
    public async Task Json_output_has_the_verdict_and_each_criterion_and_out_writes_the_same_document()
    {
        using var app = new HealthApp();
        app.Exports(300, failed: 60);
        var outDir = app.App.Directory.File("health");

        var run = await app.App.RunAsync("health", "--format", "json", "--out", outDir);

        Assert.True(run.ExitCode == 1, run.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(run.Output);
        Assert.Equal("RollBack", json.RootElement.GetProperty("verdict").GetString());
        Assert.Equal("fail", json.RootElement.GetProperty("gateVerdict").GetString());
        var criterion = Assert.Single(json.RootElement.GetProperty("criteria").EnumerateArray());
        Assert.Equal("invoice-export-failures", criterion.GetProperty("name").GetString());
        Assert.Equal(300, criterion.GetProperty("sampleSize").GetInt64());
        Assert.Equal(0.2, criterion.GetProperty("observed").GetDouble(), 3);
        Assert.Equal(0.02, criterion.GetProperty("threshold").GetDouble(), 6);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, criterion.GetProperty("baseline").ValueKind);
        Assert.Equal(run.Output, File.ReadAllText(Path.Combine(outDir, "releasekit-health.json")));
    }

    /// <summary>A baseline store whose rows cannot be read.</summary>
    private sealed class CorruptBaselineStore : IHealthBaselineStore
    {
        public ValueTask SaveAsync(WindowSnapshot snapshot, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<WindowSnapshot?> FindBaselineAsync(string windowName, string currentReleaseId, CancellationToken cancellationToken) =>
            throw new InvalidDataException("The baseline of release '2026.11.20-1', window 'first-hour', cannot be read: truncated at byte 9.");
    }

    [Fact]
    public async Task An_unreadable_baseline_store_exits_2_and_names_the_row()
    {
        using var app = new HealthApp(new CorruptBaselineStore());
        app.Exports(300, failed: 1);

        var run = await app.App.RunAsync("health");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("baseline store", run.Error);
        Assert.Contains("2026.11.20-1", run.Error);
    }
}
