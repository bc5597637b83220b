using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Migrations;

namespace ReleaseKit.Hosting.Cli;

/// <summary>
/// Fills the HTML report of <c>releasekit check</c> from what the application registered: the migration plan when
/// ReleaseKit.Migrations is registered, the health of every window that has started when ReleaseKit.HealthCriteria is.
/// A section that cannot be read (the database is unreachable) is left out with a warning on standard error; the gate
/// verdict, which decides the exit code, is unaffected.
/// </summary>
internal static class ReleaseReportBuilder
{
    public static async Task<ReleaseReport> BuildAsync(CommandConsole console, GateReport gates, CancellationToken cancellationToken)
    {
        var services = console.Services;
        return new ReleaseReport(gates)
        {
            MigrationPlan = await MigrationPlanAsync(console, services, cancellationToken).ConfigureAwait(false),
            Health = await HealthAsync(services, cancellationToken).ConfigureAwait(false),
        };
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

    private static async Task<IReadOnlyList<HealthReport>> HealthAsync(IServiceProvider services, CancellationToken cancellationToken)
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

            var baseline = store is null ? null : await store.FindBaselineAsync(window.Name, monitor.ReleaseId, cancellationToken).ConfigureAwait(false);
            reports.Add(monitor.Evaluate(window, baseline));
        }

        return reports;
    }
}
