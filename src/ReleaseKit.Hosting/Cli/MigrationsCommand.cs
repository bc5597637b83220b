using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.Migrations;

namespace ReleaseKit.Hosting.Cli;

/// <summary><c>releasekit migrations plan|lint|apply|status</c> over ReleaseKit.Migrations.</summary>
internal static class MigrationsCommand
{
    private static readonly string[] PhaseNames = ["expand", "backfill", "contract"];

    public static Command Create(CommandConsole console)
    {
        var command = new Command("migrations", "The application's FluentMigrator migrations by phase (expand, backfill, contract), with the fleet-wide compatibility window.");

        var plan = new Command("plan", "List the pending migrations in order, each with its phase and whether it may run now (a Contract waits while a live instance needs the old schema). Exit code 0.");
        plan.SetAction((_, cancellationToken) => RunAsync(console, PlanAsync, cancellationToken));
        command.Subcommands.Add(plan);

        var dialect = new Option<string?>("--dialect")
        {
            Description = "The SQL dialect the lint judges: sqlite or postgresql. Default: the database's dialect.",
            HelpName = "dialect",
        };
        dialect.AcceptOnlyFromAmong("sqlite", "postgresql");
        var lint = new Command("lint", "Check every migration's expressions without running them (destructive changes only in Contract, reversible Down, ...). Exit code 0 when clean, 1 when there are violations.");
        lint.Options.Add(dialect);
        lint.SetAction((parseResult, cancellationToken) => RunAsync(console, (c, ct) => LintAsync(c, parseResult.GetValue(dialect), ct), cancellationToken));
        command.Subcommands.Add(lint);

        var phase = new Option<string>("--phase")
        {
            Description = "Apply pending migrations up to and including this phase: expand, backfill or contract.",
            HelpName = "phase",
            Required = true,
        };
        phase.AcceptOnlyFromAmong(PhaseNames);
        var apply = new Command("apply", "Apply the pending migrations up to a phase, under the fleet-wide migration lock. Exit code 0 when applied, 1 when refused (a live instance needs the old schema) or failed.");
        apply.Options.Add(phase);
        apply.SetAction((parseResult, cancellationToken) => RunAsync(console, (c, ct) => ApplyAsync(c, ParsePhase(parseResult.GetValue(phase)!), ct), cancellationToken));
        command.Subcommands.Add(apply);

        var status = new Command("status", "Show the applied migrations, the pending ones and the live instances with their builds. Exit code 0.");
        status.SetAction((_, cancellationToken) => RunAsync(console, StatusAsync, cancellationToken));
        command.Subcommands.Add(status);
        return command;
    }

    private static async Task<int> RunAsync(CommandConsole console, Func<CommandConsole, CancellationToken, Task<int>> verb, CancellationToken cancellationToken)
    {
        console.ValidateConfiguration();
        if (console.Services.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(FleetMigrator)))
        {
            throw new UsageException("ReleaseKit.Migrations is not registered. Register it where the application configures its services: services.AddReleaseKit().AddMigrations(o => { o.MigrationsAssembly = typeof(MyMigration).Assembly; o.BuildVersion = \"...\"; }), with a DbDataSource and FluentMigrator's runner.");
        }

        try
        {
            return await verb(console, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("DbDataSource", StringComparison.Ordinal) || ex.Message.Contains("No service for type", StringComparison.Ordinal))
        {
            throw new UsageException(SecretRedactor.Redact(ex.Message), ex);
        }
        catch (MigrationCatalogException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    private static async Task<int> PlanAsync(CommandConsole console, CancellationToken cancellationToken)
    {
        var plan = await console.Services.GetRequiredService<FleetMigrator>().PlanAsync(cancellationToken).ConfigureAwait(false);
        await console.Output.WriteLineAsync(SecretRedactor.Redact(plan.ToString())).ConfigureAwait(false);
        return ReleaseKitExitCodes.Pass;
    }

    private static async Task<int> LintAsync(CommandConsole console, string? dialectName, CancellationToken cancellationToken)
    {
        var services = console.Services;
        var dialect = dialectName is null
            ? services.GetRequiredService<FleetRegistry>().Dialect
            : string.Equals(dialectName, "sqlite", StringComparison.OrdinalIgnoreCase) ? SqlDialect.Sqlite : SqlDialect.PostgreSql;
        var report = MigrationLint.Lint(services.GetRequiredService<MigrationCatalog>(), dialect, services);
        await console.Output.WriteLineAsync(SecretRedactor.Redact(report.ToString())).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return report.IsClean ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
    }

    private static async Task<int> ApplyAsync(CommandConsole console, Phase phase, CancellationToken cancellationToken)
    {
        var result = await console.Services.GetRequiredService<FleetMigrator>().ApplyAsync(phase, cancellationToken).ConfigureAwait(false);
        var writer = result.Succeeded ? console.Output : console.Error;
        await writer.WriteLineAsync(SecretRedactor.Redact(result.ToString())).ConfigureAwait(false);
        if (result.Applied.Count > 0)
        {
            await console.Output.WriteLineAsync("Applied: " + string.Join(", ", result.Applied.Select(v => v.ToString(CultureInfo.InvariantCulture)))).ConfigureAwait(false);
        }

        if (result.BlockingInstances.Count > 0)
        {
            await console.Error.WriteLineAsync("Blocked by live instances: " + string.Join(", ", result.BlockingInstances)).ConfigureAwait(false);
        }

        return result.Succeeded ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
    }

    private static async Task<int> StatusAsync(CommandConsole console, CancellationToken cancellationToken)
    {
        var services = console.Services;
        var registry = services.GetRequiredService<FleetRegistry>();
        var catalog = services.GetRequiredService<MigrationCatalog>();
        var applied = await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false);
        var live = await registry.GetLiveInstancesAsync(cancellationToken).ConfigureAwait(false);
        var appliedVersions = applied.Select(a => a.Version).ToHashSet();
        var output = console.Output;
        await output.WriteLineAsync($"Applied migrations ({applied.Count}):").ConfigureAwait(false);
        foreach (var migration in applied.OrderBy(a => a.Version))
        {
            var descriptor = catalog.Find(migration.Version);
            await output.WriteLineAsync($"  {migration.Version} {migration.Phase?.ToString() ?? "(no phase)"} {descriptor?.ClassName ?? "(not in this build)"}").ConfigureAwait(false);
        }

        var pending = catalog.Migrations.Where(m => !appliedVersions.Contains(m.Version)).ToArray();
        await output.WriteLineAsync($"Pending migrations ({pending.Length}):").ConfigureAwait(false);
        foreach (var migration in pending)
        {
            await output.WriteLineAsync($"  {migration.Version} {migration.Phase?.ToString() ?? "(no phase)"} {migration.ClassName}").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"Live instances ({live.Count}):").ConfigureAwait(false);
        foreach (var instance in live)
        {
            await output.WriteLineAsync($"  {instance.InstanceId} build {instance.BuildVersion} on {instance.Host}, last seen {instance.LastSeen.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}").ConfigureAwait(false);
        }

        return ReleaseKitExitCodes.Pass;
    }

    private static Phase ParsePhase(string name) => name.ToLowerInvariant() switch
    {
        "backfill" => Phase.Backfill,
        "contract" => Phase.Contract,
        _ => Phase.Expand,
    };
}
