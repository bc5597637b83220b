using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using FluentMigrator.Runner.Processors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.Hosting.Rehearsal;
using ReleaseKit.Migrations;

namespace ReleaseKit.Hosting.Cli;

/// <summary>
/// <c>releasekit rehearse</c>: on a copy of the database, apply the pending migrations and run the synthetic checks (current
/// expectations), roll back to the starting version and run them (previous expectations), re-apply and run them again.
/// </summary>
internal static class RehearseCommand
{
    private const string AfterApply = "after-apply";
    private const string AfterRollback = "after-rollback";
    private const string AfterReapply = "after-reapply";

    public static Command Create(CommandConsole console)
    {
        var format = new Option<string>("--format")
        {
            Description = "Report format: console or json. Default: console.",
            HelpName = "format",
            DefaultValueFactory = _ => "console",
        };
        format.AcceptOnlyFromAmong("console", "json");
        var outDirectory = new Option<string?>("--out")
        {
            Description = "Also write the report to this directory (rehearsal.txt or rehearsal.json); created when missing.",
            HelpName = "directory",
        };
        var command = new Command(
            "rehearse",
            "On a copy of the database: apply the pending migrations, run the app's synthetic checks, roll back to the starting version, run them against the previous build's expectations, re-apply and run them again. The copy is always dropped. Exit code 0 when every step passes, 1 when one fails, 2 when migrations, the database or synthetic checks are not configured.");
        command.Options.Add(format);
        command.Options.Add(outDirectory);
        command.SetAction((parseResult, cancellationToken) => RunAsync(console, parseResult.GetValue(format)!, parseResult.GetValue(outDirectory), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CommandConsole console, string format, string? outDirectory, CancellationToken cancellationToken)
    {
        console.ValidateConfiguration();
        var services = console.Services;
        if (services.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(MigrationCatalog)))
        {
            throw new UsageException("ReleaseKit.Migrations is not registered, so there is nothing to rehearse. Register it where the application configures its services: services.AddReleaseKit().AddMigrations(o => { o.MigrationsAssembly = typeof(MyMigration).Assembly; o.BuildVersion = \"...\"; }), with a DbDataSource and FluentMigrator's runner.");
        }

        var checks = services.GetServices<SyntheticCheckRegistration>().ToArray();
        if (checks.Length == 0 || services.GetService<ApplicationServices>() is not { } application)
        {
            throw new UsageException("No synthetic checks are registered, so the rehearsal has nothing to judge the database by. Register at least one: services.AddReleaseKit().AddSyntheticCheck(\"invoice-totals\", (context, ct) => ...) or .AddSyntheticCheck<MyCheck>(\"name\").");
        }

        var dataSource = services.GetService<DbDataSource>()
            ?? throw new UsageException("releasekit rehearse needs the application's System.Data.Common.DbDataSource in the container (for example NpgsqlDataSource or a SqliteFactory data source) to copy the database.");
        MigrationCatalog catalog;
        try
        {
            catalog = services.GetRequiredService<MigrationCatalog>();
        }
        catch (MigrationCatalogException ex)
        {
            throw new UsageException(ex.Message, ex);
        }

        var migrationOptions = services.GetRequiredService<IOptions<ReleaseKitMigrationsOptions>>().Value;
        var options = services.GetService<IOptions<ReleaseKitRehearsalOptions>>()?.Value ?? new ReleaseKitRehearsalOptions();
        var dialect = migrationOptions.Dialect ?? SqlDialects.Detect(dataSource);
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;

        DatabaseCopy copy;
        try
        {
            copy = await DatabaseCopy.CreateAsync(dataSource, dialect, options.ConnectionString, options.MaintenanceDatabase, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new UsageException(SecretRedactor.Redact($"Cannot copy the database for the rehearsal: {ex.Message}"), ex);
        }
        catch (DbException ex)
        {
            throw new UsageException(SecretRedactor.Redact($"Cannot read the {dialect} database to copy it for the rehearsal: {ex.Message} Check the DbDataSource's connection string (and ReleaseKitRehearsalOptions.ConnectionString when the data source hides the password) and that the database exists and is readable."), ex);
        }

        Rehearsal report;
        try
        {
            report = await RehearseOnCopyAsync(copy, dataSource, dialect, catalog, migrationOptions.VersionTableName, application, checks, options.CheckTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await copy.Drop().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DbException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // A copy that cannot be dropped must not replace the rehearsal's report or its original exception.
                await console.Error.WriteLineAsync(SecretRedactor.Redact($"warning: the rehearsal copy could not be dropped; remove it by hand: {ex.Message}")).ConfigureAwait(false);
            }
        }

        var text = string.Equals(format, "json", StringComparison.OrdinalIgnoreCase) ? report.ToJson() : report.ToText();
        await console.Output.WriteAsync(text).ConfigureAwait(false);
        if (outDirectory is not null)
        {
            try
            {
                Directory.CreateDirectory(outDirectory);
                var path = Path.Combine(outDirectory, string.Equals(format, "json", StringComparison.OrdinalIgnoreCase) ? "rehearsal.json" : "rehearsal.txt");
                await File.WriteAllTextAsync(path, text, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--out '{outDirectory}': cannot write the report there ({ex.Message}). Pass a writable directory.", ex);
            }
        }

        return report.Verdict.IsPassing() ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
    }

    private static async Task<Rehearsal> RehearseOnCopyAsync(
        DatabaseCopy copy,
        DbDataSource original,
        SqlDialect dialect,
        MigrationCatalog catalog,
        string versionTable,
        ApplicationServices application,
        SyntheticCheckRegistration[] checks,
        TimeSpan checkTimeout,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var copySource = DatabaseCopy.ProviderFactory(original).CreateDataSource(copy.ConnectionString);
        await using (copySource.ConfigureAwait(false))
        {
            var provider = RebuildOnCopy(application.Services, copySource, copy.ConnectionString);
            await using (provider.ConfigureAwait(false))
            {
                var registry = new FleetRegistry(copySource, new FleetRegistryOptions { VersionTableName = versionTable }, time, dialect);
                var applied = (await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version).ToHashSet();
                var start = applied.Count == 0 ? 0 : applied.Max();
                var pending = catalog.Migrations.Where(m => !applied.Contains(m.Version)).ToArray();
                var target = pending.Length == 0 ? start : pending.Max(m => m.Version);
                var rehearsal = new Rehearsal(dialect, copy.Name, start, target, pending);
                rehearsal.Steps.Add(new Step("copy", Verdict.Pass, $"Copied the database to {copy.Name}; the original is only read.", [Evidence.Of("start-version", start), Evidence.Of("pending", pending.Length)]));

                async Task<long> VersionAsync() =>
                    (await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version).DefaultIfEmpty(0).Max();

                Task<Step> ChecksAsync(string step, SyntheticExpectations expectations, long version) =>
                    RunChecksAsync(step, expectations, version, checks, copySource, dialect, provider, checkTimeout, time, cancellationToken);

                if (pending.Length == 0)
                {
                    rehearsal.Steps.Add(new Step("apply", Verdict.Pass, "No pending migrations: the schema stays at version " + start.ToString(CultureInfo.InvariantCulture) + ".", []));
                    rehearsal.Steps.Add(await ChecksAsync(AfterApply, SyntheticExpectations.Current, start).ConfigureAwait(false));
                    return rehearsal;
                }

                IMigrationRunner runner;
                using var scope = provider.CreateScope();
                try
                {
                    runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
                }
                catch (InvalidOperationException ex)
                {
                    throw new UsageException($"FluentMigrator's runner cannot be created for the copy ({ex.Message}). Register it where the application configures its services: services.AddFluentMigratorCore().ConfigureRunner(rb => rb.AddPostgres().WithGlobalConnectionString(...).ScanIn(typeof(MyMigration).Assembly).For.Migrations()).", ex);
                }

                var migrations = string.Join(", ", pending.Select(m => $"{m.Version} {m.ClassName} ({m.Phase?.ToString() ?? "no phase"})"));
                var apply = await MigrateAsync("apply", () => runner.MigrateUp(target), $"Applied {pending.Length} pending migration(s)", migrations, VersionAsync, target).ConfigureAwait(false);
                rehearsal.Steps.Add(apply);
                if (!apply.Verdict.IsPassing())
                {
                    rehearsal.Skip(AfterApply, "rollback", AfterRollback, "reapply", AfterReapply);
                    return rehearsal;
                }

                rehearsal.Steps.Add(await ChecksAsync(AfterApply, SyntheticExpectations.Current, target).ConfigureAwait(false));
                var rollback = await MigrateAsync("rollback", () => runner.MigrateDown(start), $"Rolled back to version {start.ToString(CultureInfo.InvariantCulture)}", migrations, VersionAsync, start).ConfigureAwait(false);
                rehearsal.Steps.Add(rollback);
                if (!rollback.Verdict.IsPassing())
                {
                    rehearsal.Skip(AfterRollback, "reapply", AfterReapply);
                    return rehearsal;
                }

                rehearsal.Steps.Add(await ChecksAsync(AfterRollback, SyntheticExpectations.Previous, start).ConfigureAwait(false));
                var reapply = await MigrateAsync("reapply", () => runner.MigrateUp(target), $"Re-applied {pending.Length} migration(s)", migrations, VersionAsync, target).ConfigureAwait(false);
                rehearsal.Steps.Add(reapply);
                if (!reapply.Verdict.IsPassing())
                {
                    rehearsal.Skip(AfterReapply);
                    return rehearsal;
                }

                rehearsal.Steps.Add(await ChecksAsync(AfterReapply, SyntheticExpectations.Current, target).ConfigureAwait(false));
                return rehearsal;
            }
        }
    }

    /// <summary>The application's services with <see cref="DbDataSource"/> and FluentMigrator's connection string pointed at the copy.</summary>
    private static ServiceProvider RebuildOnCopy(IServiceCollection application, DbDataSource copySource, string copyConnectionString)
    {
        IServiceCollection services = new ServiceCollection();
        foreach (var descriptor in application)
        {
            if (descriptor.ServiceType != typeof(DbDataSource) && descriptor.ServiceType != typeof(IConnectionStringAccessor))
            {
                services.Add(descriptor);
            }
        }

        services.AddSingleton(copySource);
        services.AddSingleton<IConnectionStringAccessor>(new CopyConnectionString(copyConnectionString));
        services.PostConfigure<ProcessorOptions>(o => o.ConnectionString = copyConnectionString);
        return services.BuildServiceProvider();
    }

    private static async Task<Step> MigrateAsync(string name, Action migrate, string done, string migrations, Func<Task<long>> version, long expected)
    {
        try
        {
            migrate();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new Step(name, Verdict.Fail, $"{name} failed: {ex.GetBaseException().Message}", [Evidence.Of("migrations", migrations), Evidence.Of("exception", $"{ex.GetBaseException().GetType().FullName}: {ex.GetBaseException().Message}")]);
        }

        var now = await version().ConfigureAwait(false);
        return now == expected
            ? new Step(name, Verdict.Pass, $"{done}: schema version {now.ToString(CultureInfo.InvariantCulture)}.", [Evidence.Of("migrations", migrations), Evidence.Of("schema-version", now, expected)])
            : new Step(name, Verdict.Fail, $"{name} ended at schema version {now.ToString(CultureInfo.InvariantCulture)}, expected {expected.ToString(CultureInfo.InvariantCulture)}.", [Evidence.Of("migrations", migrations), Evidence.Of("schema-version", now, expected)]);
    }

    private static async Task<Step> RunChecksAsync(string step, SyntheticExpectations expectations, long version, SyntheticCheckRegistration[] checks, DbDataSource copy, SqlDialect dialect, IServiceProvider services, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var results = new List<CheckOutcome>(checks.Length);
        foreach (var registration in checks)
        {
            var started = time.GetTimestamp();
            var result = await RunCheckAsync(registration, new SyntheticCheckContext(registration.Name, step, copy, dialect, expectations, version, services, time), timeout, time, cancellationToken).ConfigureAwait(false);
            results.Add(new CheckOutcome(registration.Name, result.WithDuration(time.GetElapsedTime(started))));
        }

        var verdict = results.Select(r => r.Result.Verdict).Worst();
        var failing = results.Where(r => !r.Result.Verdict.IsPassing()).Select(r => r.Name).ToArray();
        var reason = failing.Length == 0
            ? $"{results.Count} synthetic check(s) passed against the {expectations.ToString().ToLowerInvariant()} build's expectations at schema version {version.ToString(CultureInfo.InvariantCulture)}."
            : $"{failing.Length} of {results.Count} synthetic check(s) did not pass against the {expectations.ToString().ToLowerInvariant()} build's expectations at schema version {version.ToString(CultureInfo.InvariantCulture)}: {string.Join(", ", failing)}.";
        return new Step(step, verdict, reason, [Evidence.Of("expectations", expectations.ToString().ToLowerInvariant()), Evidence.Of("schema-version", version)], results);
    }

    private static async Task<GateResult> RunCheckAsync(SyntheticCheckRegistration registration, SyntheticCheckContext context, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            var check = registration.Factory(context.Services);
            return await check.RunAsync(context, linked.Token).ConfigureAwait(false)
                ?? GateResult.Fail("The synthetic check returned no result (null).");
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return GateResult.Fail($"The synthetic check did not finish within {timeout}.", Evidence.Of("timeout", timeout.ToString("c", CultureInfo.InvariantCulture)));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return GateResult.Fail(
                $"The synthetic check threw {ex.GetType().FullName}: {ex.Message}",
                Evidence.Of("exception", $"{ex.GetType().FullName}: {ex.Message}"),
                Evidence.Of("at", ex.StackTrace?.Split('\n', 2)[0].Trim()));
        }
    }

    private sealed class CopyConnectionString(string connectionString) : IConnectionStringAccessor
    {
        public string ConnectionString { get; } = connectionString;
    }

    private sealed record CheckOutcome(string Name, GateResult Result);

    private sealed record Step(string Name, Verdict Verdict, string Reason, IReadOnlyList<Evidence> Evidence, IReadOnlyList<CheckOutcome>? Checks = null);

    private sealed class Rehearsal(SqlDialect dialect, string copy, long start, long target, IReadOnlyList<MigrationDescriptor> pending)
    {
        public List<Step> Steps { get; } = [];

        public Verdict Verdict => Steps.Select(s => s.Verdict).Worst();

        public void Skip(params string[] names)
        {
            var failed = Steps[^1].Name;
            foreach (var name in names)
            {
                Steps.Add(new Step(name, Verdict.Inconclusive, $"Not run: step {failed} failed.", []));
            }
        }

        public string ToText()
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"Rehearsal on a copy of the {dialect} database ({copy}): {pending.Count} pending migration(s), schema version {start} -> {target}, then back to {start} and forward again.\n");
            foreach (var step in Steps)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Label(step.Verdict),-13} {step.Name,-15} {step.Reason}\n");
                foreach (var evidence in step.Evidence)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{string.Empty,-30}{evidence}\n");
                }

                foreach (var check in step.Checks ?? [])
                {
                    text.Append(CultureInfo.InvariantCulture, $"  {Label(check.Result.Verdict),-13} {check.Name}: {check.Result.Reason}\n");
                    foreach (var evidence in check.Result.Evidence)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"{string.Empty,-30}{evidence}\n");
                    }
                }
            }

            var failed = Steps.Where(s => !s.Verdict.IsPassing()).Select(s => s.Name).ToArray();
            text.Append(failed.Length == 0
                ? $"PASS rehearse: all {Steps.Count} steps passed.\n"
                : $"FAIL rehearse: {failed.Length} of {Steps.Count} steps did not pass: {string.Join(", ", failed)}.\n");
            return SecretRedactor.Redact(text.ToString())!;
        }

        public string ToJson()
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                json.WriteString("verdict", Verdict.ToWireName());
                json.WriteString("dialect", dialect.ToString().ToLowerInvariant());
                json.WriteString("copy", SecretRedactor.Redact(copy));
                json.WriteNumber("startVersion", start);
                json.WriteNumber("targetVersion", target);
                json.WriteStartArray("pending");
                foreach (var migration in pending)
                {
                    json.WriteStartObject();
                    json.WriteNumber("version", migration.Version);
                    json.WriteString("class", migration.ClassName);
                    json.WriteString("phase", migration.Phase?.ToString().ToLowerInvariant());
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteStartArray("steps");
                foreach (var step in Steps)
                {
                    json.WriteStartObject();
                    json.WriteString("name", step.Name);
                    WriteResult(json, step.Verdict, step.Reason, step.Evidence);
                    if (step.Checks is { } checks)
                    {
                        json.WriteStartArray("checks");
                        foreach (var check in checks)
                        {
                            json.WriteStartObject();
                            json.WriteString("name", check.Name);
                            WriteResult(json, check.Result.Verdict, check.Result.Reason, check.Result.Evidence);
                            json.WriteNumber("durationSeconds", check.Result.Duration.TotalSeconds);
                            json.WriteEndObject();
                        }

                        json.WriteEndArray();
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
        }

        private static void WriteResult(Utf8JsonWriter json, Verdict verdict, string reason, IReadOnlyList<Evidence> evidence)
        {
            json.WriteString("verdict", verdict.ToWireName());
            json.WriteString("reason", SecretRedactor.Redact(reason));
            json.WriteStartArray("evidence");
            foreach (var item in evidence)
            {
                json.WriteStartObject();
                json.WriteString("name", item.Name);
                json.WriteString("observed", item.IsSensitive ? "[redacted]" : SecretRedactor.Redact(item.Observed ?? string.Empty));
                if (item.Threshold is not null)
                {
                    json.WriteString("threshold", item.Threshold);
                }

                if (item.Unit is not null)
                {
                    json.WriteString("unit", item.Unit);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        private static string Label(Verdict verdict) => verdict.ToWireName().ToUpperInvariant();
    }
}
