using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Migrations;
using ReleaseKit.Reconciliation;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

/// <summary>
/// Real data for every section of the release report: a migration plan from a real SQLite database and fleet registry,
/// health reports from a real monitor on a fake clock, and a reconciliation of a real journal against the in-memory ERP.
/// </summary>
internal static class ReleaseReportSamples
{
    public static readonly DateTimeOffset Deploy = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    /// <summary>The pending migrations 1-3 of HostingSamples.Billing; a live build 1.0 that knows 1 and 2 blocks the Contract 3.</summary>
    public static async Task<MigrationPlan> MigrationPlanAsync(TempDirectory directory)
    {
        var dataSource = Databases.Sqlite(directory, "plan.db");
        var services = new ServiceCollection();
        services.AddSingleton(dataSource);
        services.AddFluentMigratorCore().ConfigureRunner(rb => rb.AddSQLite().WithGlobalConnectionString(dataSource.ConnectionString).ScanIn(typeof(ReleaseReportSamples).Assembly).For.Migrations());
        services.Configure<TypeFilterOptions>(o => { o.Namespace = "HostingSamples.Billing"; o.NestedNamespaces = true; });
        services.AddReleaseKit().AddMigrations(o =>
        {
            o.MigrationsAssembly = typeof(ReleaseReportSamples).Assembly;
            o.Namespace = "HostingSamples.Billing";
            o.BuildVersion = "2.0";
            o.InstanceId = "web/2";
        });
        await using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<FleetRegistry>();
        await registry.HeartbeatAsync("web-old/1", new BuildSnapshot("1.0", [1, 2]), "host-a", TestContext.Current.CancellationToken);
        var plan = await provider.GetRequiredService<FleetMigrator>().PlanAsync(TestContext.Current.CancellationToken);
        SqliteConnection.ClearAllPools();
        return plan;
    }

    /// <summary>
    /// The first hour and the first day, 30 minutes after the deploy: invoice exports every 10 s with failures rising in the
    /// last 10 minutes (a rate criterion), a latency distribution compared with the previous release's (a baseline), and a
    /// criterion on a signal recorded in one slice only (too few slices to chart).
    /// </summary>
    public static IReadOnlyList<HealthReport> Health(string criterionPrefix = "")
    {
        var baseline = Monitor(new FakeTimeProvider(Deploy.AddDays(-7)), "2026.11.20-1", criterionPrefix, latency: 0.200, failEvery: 0, out var previousTime);
        previousTime.Advance(TimeSpan.FromMinutes(61));
        var snapshot = baseline.Snapshot(baseline.Window(ReleaseWindow.FirstHourName));
        baseline.Dispose();

        using var monitor = Monitor(new FakeTimeProvider(Deploy), "2026.11.27-1", criterionPrefix, latency: 0.230, failEvery: 25, out _);
        return [monitor.Evaluate(monitor.Window(ReleaseWindow.FirstDayName)), monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName), snapshot)];
    }

    private static ReleaseHealthMonitor Monitor(FakeTimeProvider time, string releaseId, string prefix, double latency, int failEvery, out FakeTimeProvider clock)
    {
        clock = time;
        var options = new ReleaseHealthOptions { ReleaseId = releaseId };
        options.Add(new ThresholdCriterion(prefix + "invoice-export-failures", "invoice.exports.failed", HealthStatistic.Rate) { Denominator = "invoice.exports", AtMost = 0.05, Critical = true, MinimumSampleSize = 50 });
        options.Add(new ThresholdCriterion("checkout-p95", "checkout.latency", HealthStatistic.Quantile) { Quantile = 0.95, MaxRelativeIncrease = 0.25, MinimumSampleSize = 30 });
        options.Add(new ThresholdCriterion("erp-backlog", "erp.backlog", HealthStatistic.Last) { AtMost = 500, MinimumSampleSize = 1 });
        var monitor = new ReleaseHealthMonitor(Options.Create(options), time);
        var exports = monitor.Signal(new SignalDefinition("invoice.exports", SignalKind.Counter));
        var failed = monitor.Signal(new SignalDefinition("invoice.exports.failed", SignalKind.Counter));
        var checkout = monitor.Signal(new SignalDefinition("checkout.latency", SignalKind.Distribution, "s"));
        monitor.Signal(new SignalDefinition("erp.backlog", SignalKind.Gauge)).Record(120);
        for (var i = 0; i < 180; i++)
        {
            exports.Add();
            if (failEvery > 0 && i >= 120 && i % (failEvery / 5) == 0)
            {
                failed.Add();
            }

            checkout.Record(latency + (i % 7 * 0.01));
            time.Advance(TimeSpan.FromSeconds(10));
        }

        return monitor;
    }

    /// <summary>Three journaled invoices the ERP misses (replay), one the ERP holds twice (compensate) and an ERP record nobody journaled (hold).</summary>
    public static async Task<ReconciliationReport> ReconciliationAsync(TempDirectory directory, string heldKey = "INV-9")
    {
        var time = new FakeTimeProvider(Deploy);
        await using var dataSource = Databases.Sqlite(directory, "journal.db");
        var journal = new PostingJournal(dataSource, time);
        var erp = new InMemoryErp();
        var ct = TestContext.Current.CancellationToken;
        foreach (var (key, amount) in new[] { ("INV-1", 100.25m), ("INV-2", 50m), ("INV-3", 19.99m) })
        {
            await journal.RecordAsync(new PostingRequest("acme", PostingKind.InvoiceExport, key, new Money(amount, "EUR"), $"{{\"invoice\":\"{key}\"}}", "2026.11.27-1", Deploy.AddMinutes(5)), cancellationToken: ct);
        }

        erp.Seed(new ErpRecord("acme", PostingKind.InvoiceExport, heldKey, "hand-typed", new string('a', 64), new Money(3m, "USD"), Deploy, "HAND-9"));
        var reconciler = new Reconciler(journal, erp, new ReconciliationOptions { WorkerId = "report-test", MaxPostsPerSecond = null, RetryDelay = TimeSpan.Zero }, time);
        var report = await reconciler.ReportAsync(new ReconciliationScope(Deploy.AddDays(-1), Deploy.AddDays(1), ["acme"]), ct);
        SqliteConnection.ClearAllPools();
        return report;
    }

    /// <summary>The sampled gate run of <see cref="HtmlReportTests"/> with every section.</summary>
    public static async Task<ReleaseReport> FullAsync(TempDirectory directory, GateReport? gates = null) =>
        new(gates ?? HtmlReportTests.SampledReport())
        {
            MigrationPlan = await MigrationPlanAsync(directory),
            Health = Health(),
            Reconciliation = await ReconciliationAsync(directory),
        };
}
