using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
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
        var format = new Option<string>("--format")
        {
            Description = "Output format: console or json. Default: console.",
            HelpName = "format",
            DefaultValueFactory = _ => "console",
        };
        format.AcceptOnlyFromAmong("console", "json");
        var outDirectory = new Option<string?>("--out")
        {
            Description = "Also write the verdict to this folder (releasekit-health.txt or releasekit-health.json).",
            HelpName = "dir",
        };
        var command = new Command("health", "Judge this release's health over a window after the deploy, with every criterion's evidence. Exit code 0 when Healthy or Degraded, 1 when Inconclusive or RollBack.");
        command.Options.Add(window);
        command.Options.Add(format);
        command.Options.Add(outDirectory);
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console,
            parseResult.GetValue(window)!,
            string.Equals(parseResult.GetValue(format), "json", StringComparison.OrdinalIgnoreCase),
            parseResult.GetValue(outDirectory),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CommandConsole console, string windowName, bool json, string? outDirectory, CancellationToken cancellationToken)
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

        if (outDirectory is not null)
        {
            CommandTree.CreateOutDirectory(outDirectory);
        }

        var store = services.GetService<IHealthBaselineStore>();
        WindowSnapshot? baseline;
        try
        {
            baseline = store is null ? null : await store.FindBaselineAsync(window.Name, monitor.ReleaseId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbException or InvalidDataException)
        {
            throw new UsageException(SecretRedactor.Redact($"The health baseline store ({store}) cannot be read: {ex.Message} Check the database passed to UseDbHealthBaselineStore (connection string, permissions), or remove the unreadable row it names."), ex);
        }

        var report = monitor.Evaluate(window, baseline);
        var verdict = HealthReport.ToGateVerdict(report.Verdict);
        var text = json ? Json(report) : Text(report);
        await console.Output.WriteAsync(text).ConfigureAwait(false);
        if (outDirectory is not null)
        {
            var path = Path.Combine(outDirectory, json ? "releasekit-health.json" : "releasekit-health.txt");
            await File.WriteAllTextAsync(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), cancellationToken).ConfigureAwait(false);
            if (!json)
            {
                await console.Output.WriteLineAsync($"Wrote {Path.GetFullPath(path)}").ConfigureAwait(false);
            }
        }

        return verdict.IsPassing() ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
    }

    private static string Text(HealthReport report)
    {
        var text = new StringBuilder();
        var window = report.Window;
        text.Append(CultureInfo.InvariantCulture, $"{report.Verdict.ToString().ToUpperInvariant()} release {report.ReleaseId}, window {window.Name} ({window.Start:u} to {window.End:u}): {report.Reason}\n");
        foreach (var criterion in report.Criteria)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {criterion}\n");
        }

        foreach (var issue in report.DataIssues)
        {
            text.Append(CultureInfo.InvariantCulture, $"  data issue: {issue}\n");
        }

        return SecretRedactor.Redact(text.ToString());
    }

    /// <summary>The verdict as JSON: numbers in the invariant culture, criteria in the report's order, sensitive evidence masked.</summary>
    private static string Json(HealthReport report)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("releaseId", report.ReleaseId);
            writer.WriteStartObject("window");
            writer.WriteString("name", report.Window.Name);
            writer.WriteString("start", report.Window.Start.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteString("end", report.Window.End.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
            writer.WriteString("evaluatedAt", report.EvaluatedAt.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteString("verdict", report.Verdict.ToString());
            writer.WriteString("gateVerdict", HealthReport.ToGateVerdict(report.Verdict).ToWireName());
            writer.WriteString("reason", SecretRedactor.Redact(report.Reason));
            writer.WriteStartArray("criteria");
            foreach (var c in report.Criteria)
            {
                writer.WriteStartObject();
                writer.WriteString("name", c.Name);
                writer.WriteString("signal", c.Signal);
                writer.WriteString("verdict", c.Verdict.ToWireName());
                writer.WriteString("reason", SecretRedactor.Redact(c.Reason));
                writer.WriteBoolean("critical", c.Critical);
                writer.WriteBoolean("muted", c.Muted);
                writer.WriteNumber("weight", c.Weight);
                writer.WriteNumber("sampleSize", c.SampleSize);
                Number(writer, "observed", c.Observed);
                Number(writer, "threshold", c.Threshold);
                Number(writer, "baseline", c.Baseline);
                if (c.BaselineSampleSize is { } baselineSize)
                {
                    writer.WriteNumber("baselineSampleSize", baselineSize);
                }
                else
                {
                    writer.WriteNull("baselineSampleSize");
                }

                Number(writer, "pValue", c.PValue);
                Number(writer, "effect", c.Effect);
                writer.WriteString("statistic", c.Statistic);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("dataIssues");
            foreach (var issue in report.DataIssues)
            {
                writer.WriteStartObject();
                writer.WriteString("name", issue.Name);
                writer.WriteString("observed", issue.IsSensitive ? "***" : SecretRedactor.Redact(issue.Observed ?? string.Empty));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Number(Utf8JsonWriter writer, string name, double? value)
    {
        // JSON has no NaN or infinity: an undefined statistic is null.
        if (value is { } number && double.IsFinite(number))
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
