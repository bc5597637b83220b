using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.HealthCriteria;

namespace ReleaseKit.Hosting.Cli;

/// <summary><c>releasekit health --window ...</c>: the current verdict of ReleaseKit.HealthCriteria's monitor.</summary>
internal static class HealthCommand
{
    public static Command Create(CommandConsole console)
    {
        var window = new Option<string>("--window")
        {
            Description = "The window judged: first-hour, first-day, billing-cycle (the first billing cycle; needs a billing calendar) or a configured custom window. Default: first-hour.",
            HelpName = "window",
            DefaultValueFactory = _ => ReleaseWindow.FirstHourName,
        };
        var command = new Command("health", "Judge this release's health over a window after the deploy, with every criterion's evidence. Exit code 0 when Healthy or Degraded, 1 when Inconclusive or RollBack.");
        command.Options.Add(window);
        command.SetAction((parseResult, cancellationToken) => RunAsync(console, parseResult.GetValue(window)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CommandConsole console, string windowName, CancellationToken cancellationToken)
    {
        console.ValidateConfiguration();
        var services = console.Services;
        var monitor = services.GetService<ReleaseHealthMonitor>()
            ?? throw new UsageException("ReleaseKit.HealthCriteria is not registered. Register it where the application configures its services: services.AddReleaseKit().AddHealthCriteria(o => { o.ReleaseId = \"...\"; o.Add(...); }).");
        if (string.Equals(windowName, "billing-cycle", StringComparison.OrdinalIgnoreCase))
        {
            windowName = ReleaseWindow.FirstBillingCycleName;
        }

        ReleaseWindow window;
        try
        {
            window = monitor.Window(windowName);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--window '{windowName}': {ex.Message} Allowed: first-hour, first-day, billing-cycle or a configured custom window.", ex);
        }

        var store = services.GetService<IHealthBaselineStore>();
        var baseline = store is null ? null : await store.FindBaselineAsync(window.Name, monitor.ReleaseId, cancellationToken).ConfigureAwait(false);
        var report = monitor.Evaluate(window, baseline);
        var output = console.Output;
        var verdict = HealthReport.ToGateVerdict(report.Verdict);
        await output.WriteLineAsync(SecretRedactor.Redact($"{report.Verdict.ToString().ToUpperInvariant()} release {report.ReleaseId}, window {window.Name} ({window.Start:u} to {window.End:u}): {report.Reason}")).ConfigureAwait(false);
        foreach (var criterion in report.Criteria)
        {
            await output.WriteLineAsync(SecretRedactor.Redact($"  {criterion}")).ConfigureAwait(false);
        }

        foreach (var issue in report.DataIssues)
        {
            await output.WriteLineAsync(SecretRedactor.Redact($"  data issue: {issue}")).ConfigureAwait(false);
        }

        return verdict.IsPassing() ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
    }
}
