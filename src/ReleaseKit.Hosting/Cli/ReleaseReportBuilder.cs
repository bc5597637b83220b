using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Migrations;
using ReleaseKit.Reconciliation;

namespace ReleaseKit.Hosting.Cli;

/// <summary>
/// Fills the HTML report of <c>releasekit check</c> from what the application registered: the migration plan when
/// ReleaseKit.Migrations is registered, the health of every window that has started and has data in this process when
/// ReleaseKit.HealthCriteria is (a baseline that cannot be read is a warning, and the window is judged without it).
/// With <c>--reconcile-since</c>, a reconciliation summary: a dry-run diff of the postings journaled in that span against
/// the ERP (nothing is changed). A section that cannot be read (the database or the ERP is unreachable) is left out with a
/// warning on standard error; the gate verdict, which decides the exit code, is unaffected.
/// </summary>
internal static class ReleaseReportBuilder
{
    public static async Task<ReleaseReport> BuildAsync(CommandConsole console, GateReport gates, TimeSpan? reconcileSince, CancellationToken cancellationToken)
    {
        var services = console.Services;
        return new ReleaseReport(gates)
        {
            MigrationPlan = await MigrationPlanAsync(console, services, cancellationToken).ConfigureAwait(false),
            Health = await HealthAsync(console, services, cancellationToken).ConfigureAwait(false),
            Reconciliation = reconcileSince is { } since ? await ReconciliationAsync(console, services, since, cancellationToken).ConfigureAwait(false) : null,
        };
    }

    private static async Task<ReconciliationReport?> ReconciliationAsync(CommandConsole console, IServiceProvider services, TimeSpan since, CancellationToken cancellationToken)
    {
        var now = (services.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        try
        {
            // A plan only reads the journal and the ERP: nothing is posted, reversed or acknowledged.
            return await services.GetRequiredService<Reconciler>().ReportAsync(new ReconciliationScope(now - since, now), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or ErpTransientException or TimeoutException or HttpRequestException)
        {
            await console.Error.WriteLineAsync($"warning: the HTML report has no reconciliation summary: {SecretRedactor.Redact(ex.Message)}").ConfigureAwait(false);
            return null;
        }
    }

    private static async Task<MigrationPlan?> MigrationPlanAsync(CommandConsole console, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<IServiceProviderIsService>() is not { } isService || !isService.IsService(typeof(FleetMigrator)))
        {
            return null;
        }

        try
        {
            return await services.GetRequiredService<FleetMigrator>().PlanAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or MigrationCatalogException)
        {
            await console.Error.WriteLineAsync($"warning: the HTML report has no migration plan: {SecretRedactor.Redact(ex.Message)}").ConfigureAwait(false);
            return null;
        }
    }

    private static async Task<IReadOnlyList<HealthReport>> HealthAsync(CommandConsole console, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<ReleaseHealthMonitor>() is not { } monitor)
        {
            return [];
        }

        var options = services.GetService<IOptions<ReleaseHealthOptions>>()?.Value;
        var now = (services.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        var names = new List<string> { ReleaseWindow.FirstHourName, ReleaseWindow.FirstDayName };
        if (options?.BillingCalendar is not null)
        {
            names.Add(ReleaseWindow.FirstBillingCycleName);
        }

        names.AddRange((options?.CustomWindows.Keys ?? []).Order(StringComparer.Ordinal));
        var store = services.GetService<IHealthBaselineStore>();
        var reports = new List<HealthReport>();
        foreach (var name in names)
        {
            var window = monitor.Window(name);
            var judged = options is null || options.Criteria.Any(c => c.Windows.Count == 0 || c.Windows.Contains(window.Name));
            if (window.Start > now || !judged)
            {
                // Not started yet, or no criterion judges it: nothing to show.
                continue;
            }

            WindowSnapshot? baseline = null;
            if (store is not null)
            {
                try
                {
                    baseline = await store.FindBaselineAsync(window.Name, monitor.ReleaseId, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is DbException or InvalidDataException or InvalidOperationException)
                {
                    await console.Error.WriteLineAsync($"warning: the HTML report judges health window '{window.Name}' without a baseline: {SecretRedactor.Redact(ex.Message)}").ConfigureAwait(false);
                }
            }

            var report = monitor.Evaluate(window, baseline);

            // The monitor measures the process it runs in. A release checker process that served no traffic has no data:
            // a window where no criterion saw a single sample says nothing about the release, so it is left out.
            if (report.Criteria.Any(c => c.SampleSize > 0))
            {
                reports.Add(report);
            }
        }

        return reports;
    }
}
