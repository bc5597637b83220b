using System.Diagnostics.Metrics;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

/// <summary><c>releasekit check --format html</c> fills the migration plan and health sections from what the app registered.</summary>
public sealed class CheckHtmlReportTests
{
    private static readonly DateTimeOffset Deploy = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    private static void Gates(IReleaseGatesBuilder g) =>
        g.AddGate("erp-reachable", _ => GateResult.Pass("ERP answered in 40 ms", Evidence.Of("latency", 40L, 500L, "ms")));

    [Fact]
    public async Task With_migrations_and_health_criteria_registered_the_html_report_has_the_plan_and_the_started_windows()
    {
        using var meter = new Meter($"Billing.Check.{Guid.NewGuid():N}");
        var exports = meter.CreateCounter<long>("invoice.exports");
        var time = new FakeTimeProvider(Deploy);
        using var db = new TempDirectory();
        var dataSource = Databases.Sqlite(db, "billing.db");
        using var app = new TestApp((services, releaseKit) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(dataSource);
            services.AddFluentMigratorCore().ConfigureRunner(rb => rb.AddSQLite().WithGlobalConnectionString(dataSource.ConnectionString).ScanIn(typeof(CheckHtmlReportTests).Assembly).For.Migrations());
            services.Configure<TypeFilterOptions>(o => { o.Namespace = "HostingSamples.Billing"; o.NestedNamespaces = true; });
            releaseKit.AddMigrations(o =>
            {
                o.MigrationsAssembly = typeof(CheckHtmlReportTests).Assembly;
                o.Namespace = "HostingSamples.Billing";
                o.BuildVersion = "2.0";
                o.InstanceId = "web/2";
            });
            releaseKit.AddHealthCriteria(o =>
            {
                o.ReleaseId = "2026.11.27-1";
                o.Capture("invoice.exports", "invoice.exports", meter.Name);
                o.Add(new ThresholdCriterion("export-volume", "invoice.exports", HealthStatistic.Total) { AtLeast = 10, MinimumSampleSize = 0 });
                o.CustomWindows["month-end"] = (TimeSpan.FromDays(3), TimeSpan.FromDays(1));
            });
            releaseKit.AddGates(Gates);
        });
        app.Services.GetRequiredService<ReleaseHealthMonitor>();
        for (var i = 0; i < 30; i++)
        {
            exports.Add(1);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var outDir = app.Directory.File("reports");
        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--format", "html", "--out", outDir);
        SqliteConnection.ClearAllPools();

        Assert.True(run.ExitCode == 0, run.ToString());
        var html = File.ReadAllText(Path.Combine(outDir, "releasekit-check.html"));
        Assert.Contains("<section id=\"migrations\">", html);
        Assert.Contains("data-migration=\"1\"", html);
        Assert.Contains("data-migration=\"3\"", html);
        Assert.Contains("<section id=\"health\">", html);
        Assert.Contains("data-window=\"first-hour\"", html);
        Assert.Contains("data-window=\"first-day\"", html);
        Assert.DoesNotContain("data-window=\"month-end\"", html); // starts three days after the deploy
        Assert.Contains("data-criterion=\"export-volume\"", html);
        Assert.Contains("<svg class=\"chart\"", html);
        Assert.DoesNotContain("<section id=\"reconciliation\">", html);
        Assert.Empty(run.Error);
    }

    /// <summary>A baseline store whose database is down.</summary>
    private sealed class BrokenBaselineStore : IHealthBaselineStore
    {
        public ValueTask SaveAsync(WindowSnapshot snapshot, CancellationToken cancellationToken) => throw new InvalidDataException("row of release '1.0' cannot be read");

        public ValueTask<WindowSnapshot?> FindBaselineAsync(string windowName, string currentReleaseId, CancellationToken cancellationToken) =>
            throw new InvalidDataException("row of release '1.0' cannot be read");
    }

    private static TestApp HealthApp(Meter meter, FakeTimeProvider time, IHealthBaselineStore? store = null) => new((services, releaseKit) =>
    {
        services.AddSingleton<TimeProvider>(time);
        if (store is not null)
        {
            services.AddSingleton(store);
        }

        releaseKit.AddHealthCriteria(o =>
        {
            o.ReleaseId = "2026.11.27-1";
            o.Capture("invoice.exports", "invoice.exports", meter.Name);
            o.Add(new ThresholdCriterion("export-volume", "invoice.exports", HealthStatistic.Total) { AtLeast = 10, MinimumSampleSize = 0 });
        });
        releaseKit.AddGates(Gates);
    });

    [Fact]
    public async Task A_checker_process_without_health_data_leaves_the_health_section_out()
    {
        using var meter = new Meter($"Billing.Check.{Guid.NewGuid():N}");
        var time = new FakeTimeProvider(Deploy);
        using var app = HealthApp(meter, time);
        time.Advance(TimeSpan.FromMinutes(30));

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--format", "html");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("<section id=\"health\">", run.Output);
        Assert.DoesNotContain("health first-hour", run.Output);
    }

    [Fact]
    public async Task A_baseline_store_that_cannot_be_read_is_a_warning_and_the_window_is_judged_without_it()
    {
        using var meter = new Meter($"Billing.Check.{Guid.NewGuid():N}");
        var exports = meter.CreateCounter<long>("invoice.exports");
        var time = new FakeTimeProvider(Deploy);
        using var app = HealthApp(meter, time, new BrokenBaselineStore());
        app.Services.GetRequiredService<ReleaseHealthMonitor>();
        for (var i = 0; i < 12; i++)
        {
            exports.Add(1);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--format", "html");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("data-criterion=\"export-volume\"", run.Output);
        Assert.Contains("without a baseline", run.Error);
        Assert.Contains("row of release '1.0' cannot be read", run.Error);
    }

    [Fact]
    public async Task Without_migrations_or_health_criteria_the_html_report_has_only_the_gates()
    {
        using var app = TestApp.WithGates(Gates);

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--format", "html");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("<!DOCTYPE html>", run.Output);
        Assert.Contains("data-gate=\"erp-reachable\"", run.Output);
        Assert.DoesNotContain("<section id=\"migrations\">", run.Output);
        Assert.DoesNotContain("<section id=\"health\">", run.Output);
    }
}
