using System.CommandLine;
using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FluentMigrator.Infrastructure;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using FluentMigrator.Runner.Processors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
            "On a copy of the database: apply the pending migrations, run the app's synthetic checks, roll back to the starting version, run them against the previous build's expectations, re-apply and run them again. The copy is dropped at the end (a warning names it when it cannot be). Exit code 0 when every step passes, 1 when one fails, 2 when migrations, the database or synthetic checks are not configured.");
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
        if (checks.Length == 0)
        {
            throw new UsageException("No synthetic checks are registered, so the rehearsal has nothing to judge the database by. Register at least one: services.AddReleaseKit().AddSyntheticCheck(\"invoice-totals\", (context, ct) => ...) or .AddSyntheticCheck<MyCheck>(\"name\").");
        }

        if (services.GetService<ApplicationServices>() is not { } application)
        {
            throw new UsageException($"{checks.Length} synthetic check(s) are registered, but the application's service collection, which AddSyntheticCheck and AddRehearsal record so the rehearsal can rebuild the services on the copy, is no longer in the container: a registration made after them removed it. Call services.AddReleaseKit().AddRehearsal() after that point.");
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

        var reportPath = outDirectory is null ? null : PrepareOut(outDirectory, format);
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
        if (reportPath is not null)
        {
            try
            {
                await File.WriteAllTextAsync(reportPath, text, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--out '{outDirectory}': cannot write the report there ({ex.Message}). Pass a writable directory.", ex);
            }
        }

        return report.Verdict.IsPassing() ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
    }

    /// <summary>Creates the <c>--out</c> folder before anything is copied, so a bad folder costs no rehearsal.</summary>
    private static string PrepareOut(string outDirectory, string format)
    {
        CommandTree.CreateOutDirectory(outDirectory);
        return Path.Combine(outDirectory, string.Equals(format, "json", StringComparison.OrdinalIgnoreCase) ? "rehearsal.json" : "rehearsal.txt");
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
                async Task<SortedSet<long>> AppliedAsync() =>
                    [.. (await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version)];

                // Judged by the SET of applied versions, not the highest one: with {1, 3} applied and {2, 4} pending, MigrateUp(4)
                // applies 2 and 4, MigrateDown(3) takes off 4 only, and 2 (pending below the start) needs its own Down.
                var applied = await AppliedAsync().ConfigureAwait(false);
                var start = applied.Count == 0 ? 0 : applied.Max;
                var pending = catalog.Migrations.Where(m => !applied.Contains(m.Version)).ToArray();
                var target = pending.Length == 0 ? start : Math.Max(start, pending.Max(m => m.Version));
                var afterApply = new SortedSet<long>(applied.Concat(pending.Select(m => m.Version)));
                var belowStart = pending.Where(m => m.Version < start).OrderByDescending(m => m.Version).ToArray();
                var rehearsal = new Rehearsal(dialect, copy.Name, start, target, pending);
                rehearsal.Steps.Add(new Step("copy", Verdict.Pass, $"Copied the database to {copy.Name}; the original is only read.", [Evidence.Of("start-version", start), Evidence.Of("applied-versions", Versions(applied)), Evidence.Of("pending", pending.Length)]));

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
                var apply = await MigrateAsync("apply", () => runner.MigrateUp(target), $"Applied {pending.Length} pending migration(s)", migrations, AppliedAsync, afterApply).ConfigureAwait(false);
                rehearsal.Steps.Add(apply);
                if (!apply.Verdict.IsPassing())
                {
                    rehearsal.Skip(AfterApply, "rollback", AfterRollback, "reapply", AfterReapply);
                    return rehearsal;
                }

                rehearsal.Steps.Add(await ChecksAsync(AfterApply, SyntheticExpectations.Current, target).ConfigureAwait(false));

                // A migration pending below the start is rolled back alone, as RollbackRehearsal does; a runner that cannot do that
                // leaves the rollback undecided, never passed.
                var singleDowns = new List<IMigrationInfo>(belowStart.Length);
                foreach (var migration in belowStart)
                {
                    if (!SingleMigrationRollback.TryFind(runner, migration.Version, out var info))
                    {
                        rehearsal.Steps.Add(new Step(
                            "rollback",
                            Verdict.Inconclusive,
                            $"Not rehearsed: version {migration.Version.ToString(CultureInfo.InvariantCulture)} is pending below the starting version {start.ToString(CultureInfo.InvariantCulture)}, so rolling back to {start.ToString(CultureInfo.InvariantCulture)} does not reach it, and the runner ({runner.GetType().Name}) cannot roll back that one migration alone. Rehearse on a copy where it is the latest.",
                            [Evidence.Of("migrations", migrations), Evidence.Of("applied-versions", Versions(afterApply), Versions(applied))]));
                        rehearsal.Skip(AfterRollback, "reapply", AfterReapply);
                        return rehearsal;
                    }

                    singleDowns.Add(info);
                }

                var rolledBack = belowStart.Length == 0
                    ? $"Rolled back to version {start.ToString(CultureInfo.InvariantCulture)}"
                    : $"Rolled back to version {start.ToString(CultureInfo.InvariantCulture)} and ran the Down of {string.Join(", ", belowStart.Select(m => m.Version.ToString(CultureInfo.InvariantCulture)))} (pending below it)";
                var rollback = await MigrateAsync(
                    "rollback",
                    () =>
                    {
                        runner.MigrateDown(start);
                        foreach (var info in singleDowns)
                        {
                            SingleMigrationRollback.Down(runner, info);
                        }
                    },
                    rolledBack,
                    migrations,
                    AppliedAsync,
                    applied).ConfigureAwait(false);
                rehearsal.Steps.Add(rollback);
                if (!rollback.Verdict.IsPassing())
                {
                    rehearsal.Skip(AfterRollback, "reapply", AfterReapply);
                    return rehearsal;
                }

                rehearsal.Steps.Add(await ChecksAsync(AfterRollback, SyntheticExpectations.Previous, start).ConfigureAwait(false));
                var reapply = await MigrateAsync("reapply", () => runner.MigrateUp(target), $"Re-applied {pending.Length} migration(s)", migrations, AppliedAsync, afterApply).ConfigureAwait(false);
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

    /// <summary>
    /// The application's services with every database handle pointed at the copy: each registration of <see cref="DbDataSource"/> or a
    /// subclass, and of <see cref="DbConnection"/>, a subclass or <see cref="IDbConnection"/>, plus FluentMigrator's connection string.
    /// A registered type the copy cannot be handed out as (a driver-specific data source the provider factory does not create) is a
    /// usage error: a check resolving it would reach the original.
    /// </summary>
    private static ServiceProvider RebuildOnCopy(IServiceCollection application, DbDataSource copySource, string copyConnectionString)
    {
        Type? connectionType = null;
        IServiceCollection services = new ServiceCollection();
        foreach (var descriptor in application)
        {
            var type = descriptor.ServiceType;
            if (type == typeof(IConnectionStringAccessor))
            {
                continue;
            }

            if (typeof(DbDataSource).IsAssignableFrom(type))
            {
                Redirectable(type, copySource.GetType(), "data source");
                services.Add(descriptor.IsKeyedService
                    ? ServiceDescriptor.KeyedSingleton(type, descriptor.ServiceKey, copySource)
                    : ServiceDescriptor.Singleton(type, copySource));
            }
            else if (typeof(DbConnection).IsAssignableFrom(type) || type == typeof(IDbConnection))
            {
                if (connectionType is null)
                {
                    using var probe = copySource.CreateConnection();
                    connectionType = probe.GetType();
                }

                Redirectable(type, connectionType, "connection");
                services.Add(descriptor.IsKeyedService
                    ? ServiceDescriptor.DescribeKeyed(type, descriptor.ServiceKey, (_, _) => copySource.CreateConnection(), descriptor.Lifetime)
                    : ServiceDescriptor.Describe(type, _ => copySource.CreateConnection(), descriptor.Lifetime));
            }
            else
            {
                services.Add(descriptor);
            }
        }

        services.TryAddSingleton(copySource);
        services.AddSingleton<IConnectionStringAccessor>(new CopyConnectionString(copyConnectionString));
        services.PostConfigure<ProcessorOptions>(o => o.ConnectionString = copyConnectionString);
        return services.BuildServiceProvider();

        static void Redirectable(Type registered, Type copy, string what)
        {
            if (!registered.IsAssignableFrom(copy))
            {
                throw new UsageException(
                    $"The application registers {registered.FullName} in its services, and the rehearsal cannot point it at the copy: the copy's {what} is a {copy.FullName}. "
                    + "A synthetic check resolving it would reach the ORIGINAL database, so nothing was rehearsed. Register the database as System.Data.Common.DbDataSource (or as the type the driver's DbProviderFactory creates), or remove that registration for the rehearsal.");
            }
        }
    }

    private static string Versions(IEnumerable<long> versions) =>
        versions.Any() ? string.Join(",", versions.Order().Select(v => v.ToString(CultureInfo.InvariantCulture))) : "none";

    private static async Task<Step> MigrateAsync(string name, Action migrate, string done, string migrations, Func<Task<SortedSet<long>>> applied, SortedSet<long> expected)
    {
        try
        {
            migrate();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new Step(name, Verdict.Fail, $"{name} failed: {ex.GetBaseException().Message}", [Evidence.Of("migrations", migrations), Evidence.Of("exception", $"{ex.GetBaseException().GetType().FullName}: {ex.GetBaseException().Message}")]);
        }

        var now = await applied().ConfigureAwait(false);
        var evidence = new[] { Evidence.Of("migrations", migrations), Evidence.Of("applied-versions", Versions(now), Versions(expected)) };
        if (now.SetEquals(expected))
        {
            var version = now.Count == 0 ? 0 : now.Max;
            return new Step(name, Verdict.Pass, $"{done}: schema version {version.ToString(CultureInfo.InvariantCulture)}.", evidence);
        }

        var missing = expected.Except(now).ToArray();
        var extra = now.Except(expected).ToArray();
        var differences = new List<string>(2);
        if (missing.Length > 0)
        {
            differences.Add($"not applied: {Versions(missing)}");
        }

        if (extra.Length > 0)
        {
            differences.Add($"still or also applied: {Versions(extra)}");
        }

        return new Step(name, Verdict.Fail, $"{name} left the version table at {Versions(now)}, expected {Versions(expected)} ({string.Join("; ", differences)}).", evidence);
    }

    private static async Task<Step> RunChecksAsync(string step, SyntheticExpectations expectations, long version, SyntheticCheckRegistration[] checks, DbDataSource copy, SqlDialect dialect, IServiceProvider services, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var results = new List<CheckOutcome>(checks.Length);
        foreach (var registration in checks)
        {
            var started = time.GetTimestamp();
            var result = await RunCheckAsync(registration, scoped => new SyntheticCheckContext(registration.Name, step, copy, dialect, expectations, version, scoped, time), services, timeout, time, cancellationToken).ConfigureAwait(false);
            results.Add(new CheckOutcome(registration.Name, result.WithDuration(time.GetElapsedTime(started))));
        }

        var verdict = results.Select(r => r.Result.Verdict).Worst();
        var failing = results.Where(r => !r.Result.Verdict.IsPassing()).Select(r => r.Name).ToArray();
        var reason = failing.Length == 0
            ? $"{results.Count} synthetic check(s) passed against the {expectations.ToString().ToLowerInvariant()} build's expectations at schema version {version.ToString(CultureInfo.InvariantCulture)}."
            : $"{failing.Length} of {results.Count} synthetic check(s) did not pass against the {expectations.ToString().ToLowerInvariant()} build's expectations at schema version {version.ToString(CultureInfo.InvariantCulture)}: {string.Join(", ", failing)}.";
        return new Step(step, verdict, reason, [Evidence.Of("expectations", expectations.ToString().ToLowerInvariant()), Evidence.Of("schema-version", version)], results);
    }

    private static async Task<GateResult> RunCheckAsync(SyntheticCheckRegistration registration, Func<IServiceProvider, SyntheticCheckContext> context, IServiceProvider services, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        // One deadline, started before the check, cancels the check's token and ends the wait: the check runs on the thread pool,
        // so one that blocks its thread or ignores the token cannot hold the rehearsal (and the copy) forever.
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var token = linked.Token;
        var run = Task.Run(() => RunInScopeAsync(registration, context, services, token), CancellationToken.None);
        try
        {
            return await run.WaitAsync(token).ConfigureAwait(false)
                ?? GateResult.Fail("The synthetic check returned no result (null).");
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Abandoned: a check that did not stop keeps running in the background (its scope is disposed when it ends) and
            // its result is ignored; the rehearsal goes on and the copy is dropped at the end regardless.
            _ = run.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return GateResult.Fail(
                $"The synthetic check did not finish within {timeout.ToString("c", CultureInfo.InvariantCulture)} (ReleaseKitRehearsalOptions.CheckTimeout); it was cancelled and abandoned.",
                Evidence.Of("timeout", timeout.ToString("c", CultureInfo.InvariantCulture)),
                Evidence.Of("stopped-when-cancelled", run.IsCompleted ? "yes" : "no: abandoned while still running"));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return GateResult.Fail(
                $"The synthetic check threw {ex.GetType().FullName}: {ex.Message}",
                Evidence.Of("exception", $"{ex.GetType().FullName}: {ex.Message}"),
                Evidence.Of("at", ex.StackTrace?.Split('\n', 2)[0].Trim()));
        }
    }

    /// <summary>Creates the check in a scope of the rebuilt services, runs it, and disposes the check and the scope.</summary>
    private static async Task<GateResult?> RunInScopeAsync(SyntheticCheckRegistration registration, Func<IServiceProvider, SyntheticCheckContext> context, IServiceProvider services, CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var check = registration.Factory(scope.ServiceProvider);
            try
            {
                return await check.RunAsync(context(scope.ServiceProvider), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (registration.OwnsInstance)
                {
                    switch (check)
                    {
                        case IAsyncDisposable asyncDisposable:
                            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                            break;
                        case IDisposable disposable:
                            disposable.Dispose();
                            break;
                    }
                }
            }
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
        /// <summary>Shorter sensitive values are only masked in their own evidence, not searched for elsewhere (as in the gate reports).</summary>
        private const int MinimumEchoedSecretLength = 4;

        public List<Step> Steps { get; } = [];

        public Verdict Verdict => Steps.Select(s => s.Verdict).Worst();

        public void Skip(params string[] names)
        {
            var failed = Steps[^1].Name;
            foreach (var name in names)
            {
                Steps.Add(new Step(name, Verdict.Inconclusive, $"Not run: step {failed} did not pass.", []));
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
                    text.Append(CultureInfo.InvariantCulture, $"{string.Empty,-30}{Line(evidence)}\n");
                }

                foreach (var check in step.Checks ?? [])
                {
                    text.Append(CultureInfo.InvariantCulture, $"  {Label(check.Result.Verdict),-13} {check.Name}: {check.Result.Reason}\n");
                    foreach (var evidence in check.Result.Evidence)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"{string.Empty,-30}{Line(evidence)}\n");
                    }
                }
            }

            var failed = Steps.Where(s => !s.Verdict.IsPassing()).Select(s => s.Name).ToArray();
            text.Append(failed.Length == 0
                ? $"PASS rehearse: all {Steps.Count} steps passed.\n"
                : $"FAIL rehearse: {failed.Length} of {Steps.Count} steps did not pass: {string.Join(", ", failed)}.\n");
            return Clean(text.ToString(), Secrets())!;
        }

        public string ToJson()
        {
            var secrets = Secrets();
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
                    WriteResult(json, step.Verdict, step.Reason, step.Evidence, secrets);
                    if (step.Checks is { } checks)
                    {
                        json.WriteStartArray("checks");
                        foreach (var check in checks)
                        {
                            json.WriteStartObject();
                            json.WriteString("name", Clean(check.Name, secrets));
                            WriteResult(json, check.Result.Verdict, check.Result.Reason, check.Result.Evidence, secrets);
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

        private static void WriteResult(Utf8JsonWriter json, Verdict verdict, string reason, IReadOnlyList<Evidence> evidence, string[] secrets)
        {
            json.WriteString("verdict", verdict.ToWireName());
            json.WriteString("reason", Clean(reason, secrets));
            json.WriteStartArray("evidence");
            foreach (var item in evidence)
            {
                json.WriteStartObject();
                json.WriteString("name", Clean(item.Name, secrets));
                json.WriteString("observed", item.IsSensitive ? SecretRedactor.Mask : Clean(item.Observed ?? string.Empty, secrets));
                if (item.Threshold is not null)
                {
                    json.WriteString("threshold", item.IsSensitive ? SecretRedactor.Mask : Clean(item.Threshold, secrets));
                }

                if (item.IsSensitive)
                {
                    json.WriteBoolean("sensitive", true);
                }

                if (item.Unit is not null)
                {
                    json.WriteString("unit", Clean(item.Unit, secrets));
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        private static string Label(Verdict verdict) => verdict.ToWireName().ToUpperInvariant();

        /// <summary>Evidence as text, with the value and threshold of sensitive evidence masked as in every other report.</summary>
        private static string Line(Evidence evidence)
        {
            var observed = evidence.IsSensitive ? SecretRedactor.Mask : evidence.Observed + evidence.Unit;
            return evidence.Threshold is null
                ? $"{evidence.Name}={observed}"
                : $"{evidence.Name}={observed} (threshold {(evidence.IsSensitive ? SecretRedactor.Mask : evidence.Threshold + evidence.Unit)})";
        }

        /// <summary>Redacts credentials, and masks the values of sensitive evidence wherever else they are echoed (a reason, a message).</summary>
        [return: NotNullIfNotNull(nameof(text))]
        private static string? Clean(string? text, string[] secrets)
        {
            var clean = SecretRedactor.Redact(text);
            if (string.IsNullOrEmpty(clean))
            {
                return clean;
            }

            foreach (var secret in secrets)
            {
                clean = clean.Replace(secret, SecretRedactor.Mask, StringComparison.Ordinal);
            }

            return clean;
        }

        /// <summary>The sensitive values to mask wherever they occur, longest first so a secret containing another is masked whole.</summary>
        private string[] Secrets() =>
        [
            .. Steps
                .SelectMany(s => s.Evidence.Concat(s.Checks?.SelectMany(c => c.Result.Evidence) ?? []))
                .Where(e => e.IsSensitive)
                .SelectMany(e => new[] { e.Observed?.Trim(), e.Threshold?.Trim() })
                .OfType<string>()
                .Where(v => v.Length >= MinimumEchoedSecretLength && v != SecretRedactor.Mask)
                .Distinct(StringComparer.Ordinal)
                .OrderByDescending(v => v.Length)
                .ThenBy(v => v, StringComparer.Ordinal),
        ];
    }
}
