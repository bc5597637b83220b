using System.Data.Common;
using FluentMigrator.Runner;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Migrations.Tests;

/// <summary>
/// The reviewed defects: each test fails on the code before its fix (a stale fleet, a lost lock, SQLite busy, out-of-order
/// rollback, phases never published, an unreadable version table, an empty fleet, conflicting phases, an undroppable copy,
/// a busy exclusive lock, parameter names that share a prefix).
/// </summary>
public sealed class FailClosedTests
{
    private const string LongBackfill = "RunnerSamples.LongBackfill";
    private const string Invoice = "RunnerSamples.Invoice";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 1, 15, 9, 0, 0, TimeSpan.Zero));

    private static MigrationCatalog Catalog(string ns) => MigrationCatalog.FromAssembly(typeof(FailClosedTests).Assembly, ns);

    private static FleetMigratorOptions MigratorOptions(string holder) => new() { Holder = holder, LockTimeout = TimeSpan.FromSeconds(5), LockPollInterval = TimeSpan.FromMilliseconds(20) };

    private static async Task ExecuteAsync(DbDataSource dataSource, string sql)
    {
        await using var connection = await dataSource.OpenConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_Contract_is_checked_against_the_instances_live_when_it_runs_not_when_the_apply_started(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await using var runner = db.RunnerServices(LongBackfill);
        var clock = Clock();
        var registry = new FleetRegistry(db.DataSource, new FleetRegistryOptions { InstanceExpiry = TimeSpan.FromMinutes(2) }, clock);
        var migrator = new FleetMigrator(runner, Catalog(LongBackfill), registry, db.DataSource, MigratorOptions("migrator"), clock);

        // While the backfill runs (no instance was live when the apply started), an instance of an older build starts.
        var started = false;
        var progress = new SyncProgress(_ =>
        {
            if (!started)
            {
                started = true;
                registry.HeartbeatAsync("old-1", new BuildSnapshot("1.0", [1, 2]), "host-a", Ct).GetAwaiter().GetResult();
            }
        });

        var result = await migrator.ApplyAsync(Phase.Contract, progress, Ct);

        Assert.True(started);
        Assert.True(result.IsRefused, result.Reason);
        Assert.Equal([1L, 2L], result.Applied);
        Assert.Equal(3, result.StoppedAt);
        Assert.Equal(["old-1"], result.BlockingInstances);
        Assert.Equal([1L, 2L], (await registry.GetAppliedMigrationsAsync(Ct)).Select(a => a.Version));
    }

    [Fact]
    public async Task A_SQLite_lease_taken_over_mid_backfill_stops_the_apply_before_the_next_batch()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        await using var runner = db.RunnerServices(LongBackfill);
        var registry = new FleetRegistry(db.DataSource);
        var migrator = new FleetMigrator(runner, Catalog(LongBackfill), registry, db.DataSource, MigratorOptions("migrator-1"));

        // After the first batch the lease is someone else's (it expired and another migrator took it).
        var batches = 0;
        var progress = new SyncProgress(_ =>
        {
            if (++batches == 1)
            {
                ExecuteAsync(db.DataSource, "UPDATE releasekit_migration_lock SET holder = 'migrator-2'").GetAwaiter().GetResult();
            }
        });

        var result = await migrator.ApplyAsync(Phase.Backfill, progress, Ct);

        Assert.False(result.Succeeded);
        Assert.Equal([1L], result.Applied);
        Assert.Equal(2, result.StoppedAt);
        Assert.Contains("migration lock", result.Reason);
        Assert.Contains("migrator-2", result.Reason);
        Assert.Equal(1, batches);
        Assert.Equal(2L, await new BackfillRunner(db.DataSource).GetCheckpointAsync("doc-body-copy", Ct));
        Assert.Equal([1L], (await registry.GetAppliedMigrationsAsync(Ct)).Select(a => a.Version));

        // Once the other migrator is gone, the next apply resumes at the checkpoint.
        await ExecuteAsync(db.DataSource, "DELETE FROM releasekit_migration_lock");
        var resumed = await migrator.ApplyAsync(Phase.Backfill, null, Ct);
        Assert.True(resumed.Succeeded, resumed.Reason);
        Assert.Equal(0, await db.ScalarAsync("SELECT COUNT(*) FROM doc WHERE body_copy IS NULL OR body_copy <> body"));
    }

    [Fact]
    public async Task A_PostgreSQL_lock_session_that_dies_mid_backfill_stops_the_apply_with_a_clear_error()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.PostgreSql);
        await using var runner = db.RunnerServices(LongBackfill);
        var registry = new FleetRegistry(db.DataSource);
        var migrator = new FleetMigrator(runner, Catalog(LongBackfill), registry, db.DataSource, MigratorOptions("migrator-1"));

        // After the first batch the session holding the advisory lock is terminated (a network cut, an admin, a failover).
        var batches = 0;
        var progress = new SyncProgress(_ =>
        {
            if (++batches == 1)
            {
                ExecuteAsync(db.DataSource, $"SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = {MigrationLock.AdvisoryLockKey & 0xFFFFFFFF}").GetAwaiter().GetResult();
            }
        });

        var result = await migrator.ApplyAsync(Phase.Backfill, progress, Ct);

        Assert.False(result.Succeeded);
        Assert.Equal([1L], result.Applied);
        Assert.Equal(2, result.StoppedAt);
        Assert.Contains("migration lock", result.Reason);
        Assert.Equal(1, batches);
        Assert.Equal([1L], (await registry.GetAppliedMigrationsAsync(Ct)).Select(a => a.Version));

        var resumed = await migrator.ApplyAsync(Phase.Backfill, null, Ct);
        Assert.True(resumed.Succeeded, resumed.Reason);
        Assert.Equal(0, await db.ScalarAsync("SELECT COUNT(*) FROM doc WHERE body_copy IS NULL OR body_copy <> body"));
    }

    [Fact]
    public async Task A_backfill_batch_that_finds_SQLite_busy_is_retried_until_the_other_writer_commits()
    {
        using var directory = new TempDirectory();
        var path = directory.File("busy.db");
        await using var dataSource = SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 1 }.ConnectionString);
        await ExecuteAsync(dataSource, "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, processed INTEGER NOT NULL DEFAULT 0)");
        for (var id = 1; id <= 6; id++)
        {
            await ExecuteAsync(dataSource, $"INSERT INTO item (id) VALUES ({id})");
        }

        var retried = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logger = new EventLogger(31, retried);
        var runner = new BackfillRunner(dataSource, new BackfillRunnerOptions { MaxRetryAttempts = 10, RetryDelay = TimeSpan.FromMilliseconds(100) }, logger: logger);
        var definition = new BackfillDefinition("busy", "item", "id", 2, (batch, ct) => batch.ExecuteAsync("UPDATE item SET processed = processed + 1 WHERE id > @from AND id <= @to", ct));

        // After the first batch another connection holds the write lock until the runner has logged a retry.
        Task? blocker = null;
        var progress = new SyncProgress(p =>
        {
            if (p.Batches == 1)
            {
                var connection = (SqliteConnection)dataSource.CreateConnection();
                connection.Open();
                using (var begin = connection.CreateCommand())
                {
                    begin.CommandText = "BEGIN IMMEDIATE; UPDATE item SET processed = processed WHERE id = 6;";
                    begin.ExecuteNonQuery();
                }

                blocker = Task.Run(async () =>
                {
                    await using (connection)
                    {
                        await retried.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
                        await using var commit = connection.CreateCommand();
                        commit.CommandText = "COMMIT";
                        await commit.ExecuteNonQueryAsync(Ct);
                    }
                }, Ct);
            }
        });

        var result = await runner.RunAsync(definition, progress, Ct);

        Assert.NotNull(blocker);
        await blocker;
        Assert.True(retried.Task.IsCompletedSuccessfully);
        Assert.Equal(3, result.Batches);
        Assert.Equal(6, result.Rows);
        await using var check = await dataSource.OpenConnectionAsync(Ct);
        await using var count = check.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM item WHERE processed <> 1";
        Assert.Equal(0L, Convert.ToInt64(await count.ExecuteScalarAsync(Ct)));
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Rehearsal_runs_the_Down_of_a_migration_pending_below_the_highest_applied_one(SqlDialect dialect)
    {
        const string ns = "RunnerSamples.OutOfOrder";
        await using var db = await TestDatabase.CreateAsync(dialect);
        await using (var services = db.RunnerServices(ns))
        {
            services.GetRequiredService<IMigrationRunner>().MigrateUp(1);
        }

        // Migration 3 is applied (a hotfix branch), 2 is not.
        await ExecuteAsync(db.DataSource, "CREATE TABLE third_t (id INTEGER NOT NULL PRIMARY KEY)");
        await ExecuteAsync(db.DataSource, "INSERT INTO \"VersionInfo\" (\"Version\", \"AppliedOn\", \"Description\") VALUES (3, CURRENT_TIMESTAMP, 'CreateThird')");
        if (db.DataSource is NpgsqlDataSource postgres)
        {
            postgres.Clear();
            NpgsqlConnection.ClearAllPools();
        }

        var rehearsal = new RollbackRehearsal(db.DataSource, Catalog(ns), cs => TestDatabase.RunnerServices(db.Dialect, cs, ns));
        var report = await rehearsal.RehearseAsync(Ct);

        Assert.Equal(3, report.StartVersion);
        var step = Assert.Single(report.Steps);
        Assert.Equal(2, step.Version);
        Assert.Equal(RehearsalOutcome.DownFailed, step.Outcome);
        Assert.Contains("no_such_table", step.Detail);
        Assert.False(report.IsClean);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_heartbeat_publishes_the_phases_so_an_app_migrating_with_plain_FluentMigrator_keeps_older_builds_inside_the_window(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await using (var services = db.RunnerServices(Invoice))
        {
            services.GetRequiredService<IMigrationRunner>().MigrateUp(3); // Expand, Expand, Backfill: no FleetMigrator involved
        }

        var registry = new FleetRegistry(db.DataSource, null, Clock());
        await registry.HeartbeatAsync("web-3", Catalog(Invoice).ToBuild("3.0"), "host-a", Ct);

        var applied = await registry.GetAppliedMigrationsAsync(Ct);
        Assert.Equal([Phase.Expand, Phase.Expand, Phase.Backfill], applied.Select(a => a.Phase));
        var release1 = new BuildSnapshot("1.0", [1, 2]);
        Assert.True(CompatibilityWindow.CanRunAgainst(release1, applied).IsAllowed);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task The_startup_gate_is_Inconclusive_when_the_version_table_is_missing_from_a_database_with_application_tables(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        var registry = new FleetRegistry(db.DataSource, new FleetRegistryOptions { VersionTableName = "VersionInfo" });
        var gate = new SchemaCompatibilityGate(Catalog(Invoice), registry, "3.0");

        // An empty database: nothing is applied yet, which is a pass.
        Assert.Equal(Verdict.Pass, (await gate.EvaluateAsync(Context(), Ct)).Verdict);

        // The application's tables exist but the version table is not where the registry looks (a wrong name or schema).
        await ExecuteAsync(db.DataSource, "CREATE TABLE invoice (id INTEGER NOT NULL PRIMARY KEY)");
        var result = await gate.EvaluateAsync(Context(), Ct);

        Assert.Equal(Verdict.Inconclusive, result.Verdict);
        Assert.Contains("VersionInfo", result.Reason);
        Assert.Contains("invoice", result.Reason);
        Assert.Equal(Verdict.Inconclusive, (await new ContractSafetyGate(Catalog(Invoice), registry).EvaluateAsync(Context(), Ct)).Verdict);
    }

    [Fact]
    public async Task A_version_table_in_its_own_PostgreSQL_schema_is_read_when_the_schema_is_configured()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.PostgreSql);
        await ExecuteAsync(db.DataSource, "CREATE SCHEMA app");
        await ExecuteAsync(db.DataSource, "CREATE TABLE app.\"VersionInfo\" (\"Version\" BIGINT NOT NULL, \"AppliedOn\" TIMESTAMP NULL, \"Description\" TEXT NULL)");
        await ExecuteAsync(db.DataSource, "INSERT INTO app.\"VersionInfo\" (\"Version\") VALUES (1), (2), (3), (4)");
        await ExecuteAsync(db.DataSource, "CREATE TABLE app.invoice (id INTEGER NOT NULL PRIMARY KEY)");
        var release2 = MigrationCatalog.FromTypes(Catalog(Invoice).Migrations.Where(m => m.Version < 4).Select(m => m.Type));

        var withoutSchema = await new SchemaCompatibilityGate(release2, new FleetRegistry(db.DataSource), "2.0").EvaluateAsync(Context(), Ct);
        var withSchema = await new SchemaCompatibilityGate(release2, new FleetRegistry(db.DataSource, new FleetRegistryOptions { VersionTableSchema = "app" }), "2.0").EvaluateAsync(Context(), Ct);

        Assert.Equal(Verdict.Inconclusive, withoutSchema.Verdict);
        Assert.Equal(Verdict.Fail, withSchema.Verdict);
        Assert.Contains("migration 4", withSchema.Reason);
    }

    [Fact]
    public async Task The_contract_gate_is_Inconclusive_with_a_pending_Contract_and_no_live_instance()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        var clock = Clock();
        var registry = new FleetRegistry(db.DataSource, new FleetRegistryOptions { InstanceExpiry = TimeSpan.FromMinutes(2) }, clock);
        var gate = new ContractSafetyGate(Catalog(Invoice), registry);

        // A fresh database: nothing applied, so no build can need an old shape; the Contract may go with the rest.
        Assert.Equal(Verdict.Pass, (await gate.EvaluateAsync(Context(), Ct)).Verdict);

        await using (var services = db.RunnerServices(Invoice))
        {
            services.GetRequiredService<IMigrationRunner>().MigrateUp(3);
        }

        await registry.HeartbeatAsync("new-1", Catalog(Invoice).ToBuild("3.0"), "host-a", Ct);
        Assert.Equal(Verdict.Pass, (await gate.EvaluateAsync(Context(), Ct)).Verdict);

        // The heartbeats stop (the fleet is gone, or its heartbeat loops died): nothing live proves the old builds are gone.
        clock.Advance(TimeSpan.FromMinutes(3));
        var result = await gate.EvaluateAsync(Context(), Ct);

        Assert.Equal(Verdict.Inconclusive, result.Verdict);
        Assert.Contains("no instance has heartbeated", result.Reason);
        Assert.Contains(result.Evidence, e => e.Name == "pending-contracts" && e.Observed == "4");
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Publishing_a_phase_that_differs_from_the_published_one_is_refused_and_names_the_migration(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        var registry = new FleetRegistry(db.DataSource);
        await registry.PublishPhasesAsync(Catalog(Invoice), Ct);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.PublishPhasesAsync(Catalog("RunnerSamples.PhaseChanged"), Ct));

        Assert.Contains("migration 3", ex.Message);
        Assert.Contains("Contract in this build", ex.Message);
        Assert.Contains("published as a Backfill", ex.Message);
        await using var services = db.RunnerServices(Invoice);
        services.GetRequiredService<IMigrationRunner>().MigrateUp(3);
        Assert.Equal(Phase.Backfill, (await registry.GetAppliedMigrationsAsync(Ct)).Single(a => a.Version == 3).Phase);
    }

    [Fact]
    public async Task A_copy_that_cannot_be_dropped_is_logged_and_the_rehearsal_report_is_still_returned()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.PostgreSql);
        await using (var services = db.RunnerServices("RunnerSamples.Rehearsal"))
        {
            services.GetRequiredService<IMigrationRunner>().MigrateUp(1);
        }

        ((NpgsqlDataSource)db.DataSource).Clear();
        NpgsqlConnection.ClearAllPools();
        string? copyName = null;
        var logger = new EventLogger(42, new TaskCompletionSource());
        var rehearsal = new RollbackRehearsal(
            db.DataSource,
            Catalog("RunnerSamples.Rehearsal"),
            cs =>
            {
                // A template database cannot be dropped: the drop at the end of the rehearsal fails.
                copyName = new NpgsqlConnectionStringBuilder(cs).Database;
                using var connection = new NpgsqlConnection(cs);
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = $"ALTER DATABASE \"{copyName}\" IS_TEMPLATE true";
                command.ExecuteNonQuery();
                return TestDatabase.RunnerServices(SqlDialect.PostgreSql, cs, "RunnerSamples.Rehearsal");
            },
            logger: logger);

        try
        {
            var report = await rehearsal.RehearseAsync(Ct);

            Assert.Equal([2L, 3L], report.Steps.Select(s => s.Version));
            Assert.Equal(copyName, report.Copy);
            Assert.True(logger.Seen.Task.IsCompleted, "the failed drop was not logged");
        }
        finally
        {
            if (copyName is not null)
            {
                NpgsqlConnection.ClearAllPools();
                await ExecuteAsync(db.DataSource, $"ALTER DATABASE \"{copyName}\" IS_TEMPLATE false");
                await ExecuteAsync(db.DataSource, $"DROP DATABASE IF EXISTS \"{copyName}\" WITH (FORCE)");
            }
        }
    }

    [Fact]
    public async Task A_PostgreSQL_copy_is_dropped_even_while_the_runner_s_pooled_sessions_are_still_connected_to_it()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.PostgreSql);
        var rehearsal = new RollbackRehearsal(db.DataSource, Catalog(Invoice), cs => TestDatabase.RunnerServices(SqlDialect.PostgreSql, cs, Invoice));

        var report = await rehearsal.RehearseAsync(Ct);

        Assert.True(report.IsClean, report.ToString());
        Assert.Equal(0, await db.ScalarAsync($"SELECT COUNT(*) FROM pg_database WHERE datname = '{report.Copy}'"));
    }

    [Fact]
    public async Task A_SQLite_database_locked_by_another_writer_makes_the_migration_lock_time_out_with_a_TimeoutException()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        await using var blocker = await db.DataSource.OpenConnectionAsync(Ct);
        await using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        var options = new FleetMigratorOptions { LockTimeout = TimeSpan.FromSeconds(1) };
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => new MigrationLock(db.DataSource, SqlDialect.Sqlite, options, TimeProvider.System).AcquireAsync("b", Ct));

        Assert.Contains("locked", ex.Message);
        Assert.Contains("LockTimeout", ex.Message);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Batch_bounds_replace_only_the_whole_words_from_and_to(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await ExecuteAsync(db.DataSource, "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, note TEXT NULL)");
        await ExecuteAsync(db.DataSource, "INSERT INTO item (id) VALUES (1), (2), (3)");
        var definition = new BackfillDefinition("notes", "item", "id", 2, (batch, ct) => batch.ExecuteAsync("UPDATE item SET note = '@total @to_date @fromage' WHERE id > @from AND id <= @to", ct));

        var result = await new BackfillRunner(db.DataSource).RunAsync(definition, null, Ct);

        Assert.Equal(3, result.Rows);
        Assert.Equal(3, await db.ScalarAsync("SELECT COUNT(*) FROM item WHERE note = '@total @to_date @fromage'"));
    }

    private static GateContext Context() =>
        new("test", new ReleaseManifest { ReleaseId = "r", Version = "1" }, "production", GateStage.Promotion, new ServiceCollection().BuildServiceProvider(), TimeProvider.System, CancellationToken.None);

    /// <summary>Reports synchronously, on the runner's own flow.</summary>
    private sealed class SyncProgress(Action<BackfillProgress> report) : IProgress<BackfillProgress>
    {
        public void Report(BackfillProgress value) => report(value);
    }

    /// <summary>Completes <see cref="Seen"/> when a log entry with the given event id is written.</summary>
    private sealed class EventLogger(int eventId, TaskCompletionSource seen) : ILogger
    {
        public TaskCompletionSource Seen { get; } = seen;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (id.Id == eventId)
            {
                Seen.TrySetResult();
            }
        }
    }
}
