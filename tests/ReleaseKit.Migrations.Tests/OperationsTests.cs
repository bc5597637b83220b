using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations.Tests;

/// <summary>The migrator in operation: gates through DI, metrics, a lost connection, heartbeats and the SQLite lease.</summary>
public sealed class OperationsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 1, 15, 9, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData("LintSamples.DropColumn.Bad", Verdict.Fail)]
    [InlineData("LintSamples.DropColumn.Good", Verdict.Pass)]
    public async Task The_lint_gate_runs_through_DI_and_the_gate_runner(string migrationsNamespace, Verdict expected)
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        var services = new ServiceCollection();
        services.AddSingleton(db.DataSource);
        services.AddReleaseKit()
            .AddMigrations(o =>
            {
                o.MigrationsAssembly = typeof(OperationsTests).Assembly;
                o.Namespace = migrationsNamespace;
                o.BuildVersion = "1.0";
            })
            .AddGates(g => g.AddMigrationGates().AddMigrationGates());
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<IReleaseGateRunner>().RunAsync(
            new GateRunRequest { Manifest = new ReleaseManifest { ReleaseId = "r1", Version = "1.0" }, EnvironmentName = "production", GateNames = ["migration-lint"] },
            Ct);

        var entry = Assert.Single(report.Entries);
        Assert.Equal("migration-lint", entry.Name);
        Assert.Equal(expected, entry.Verdict);
        Assert.Equal(expected, report.Verdict);
        if (expected == Verdict.Fail)
        {
            Assert.Contains(entry.Result.Evidence, e => e.Name == LintRules.DropColumn);
        }
    }

    [Fact]
    public async Task Applying_migrations_emits_the_applied_counter_by_phase()
    {
        var measured = new List<(long Value, string? Phase)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "ReleaseKit.Migrations" && instrument.Name == "releasekit.migrations.applied")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? phase = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "releasekit.migration.phase")
                {
                    phase = tag.Value as string;
                }
            }

            lock (measured)
            {
                measured.Add((value, phase));
            }
        });
        listener.Start();
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        await using var runner = db.RunnerServices("RunnerSamples.Invoice");
        var catalog = MigrationCatalog.FromAssembly(typeof(OperationsTests).Assembly, "RunnerSamples.Invoice");

        var result = await new FleetMigrator(runner, catalog, new FleetRegistry(db.DataSource), db.DataSource).ApplyAsync(Phase.Contract, Ct);

        Assert.True(result.Succeeded, result.Reason);
        List<(long Value, string? Phase)> seen;
        lock (measured)
        {
            seen = [.. measured];
        }

        // Other tests apply migrations in parallel, so this run's measurements are at least these.
        Assert.True(seen.Where(m => m.Phase == "Expand").Sum(m => m.Value) >= 2);
        Assert.True(seen.Where(m => m.Phase == "Backfill").Sum(m => m.Value) >= 1);
        Assert.True(seen.Where(m => m.Phase == "Contract").Sum(m => m.Value) >= 1);
    }

    [Fact]
    public async Task A_connection_lost_mid_apply_on_PostgreSQL_rolls_the_migration_back_and_releases_the_lock()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.PostgreSql);
        await using var runner = db.RunnerServices("RunnerSamples.Slow");
        var catalog = MigrationCatalog.FromAssembly(typeof(OperationsTests).Assembly, "RunnerSamples.Slow");
        var registry = new FleetRegistry(db.DataSource);
        var options = new FleetMigratorOptions { LockTimeout = TimeSpan.FromSeconds(1), Holder = "migrator-1" };
        var apply = Task.Run(() => new FleetMigrator(runner, catalog, registry, db.DataSource, options).ApplyAsync(Phase.Expand, Ct), Ct);

        // Terminate the migrator's session while migration 2 sleeps, after it created its table in its transaction.
        var terminated = false;
        await using (var admin = await db.DataSource.OpenConnectionAsync(Ct))
        {
            for (var i = 0; i < 1200 && !terminated && !apply.IsCompleted; i++)
            {
                await using var command = admin.CreateCommand();
                command.CommandText = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(60)%' AND state = 'active'";
                terminated = await command.ExecuteScalarAsync(Ct) is true;
                if (!terminated)
                {
                    await Task.Delay(50, Ct);
                }
            }
        }

        Assert.True(terminated, "the slow migration was never seen running");
        var result = await apply;

        Assert.False(result.Succeeded);
        Assert.Equal([1L], result.Applied);
        Assert.Equal(2, result.StoppedAt);
        Assert.NotNull(result.Error);
        NpgsqlConnection.ClearAllPools();
        Assert.Equal([1L], (await registry.GetAppliedMigrationsAsync(Ct)).Select(a => a.Version));
        Assert.True(await db.TableExistsAsync("first"));
        Assert.False(await db.TableExistsAsync("second"));
        await using (await new MigrationLock(db.DataSource, SqlDialect.PostgreSql, options, TimeProvider.System).AcquireAsync("migrator-2", Ct))
        {
        }
    }

    [Fact]
    public async Task The_heartbeat_loop_keeps_an_instance_live_on_the_clock_and_removes_it_when_stopped()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        var clock = Clock();
        var registry = new FleetRegistry(db.DataSource, new FleetRegistryOptions { InstanceExpiry = TimeSpan.FromMinutes(2) }, clock);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var loop = registry.RunHeartbeatAsync("web-1", new BuildSnapshot("1.0", [1]), "host-a", TimeSpan.FromSeconds(30), removeOnStop: true, stop.Token);

        // Five minutes on the clock, in steps that leave the loop time to write; without the loop the instance expires after two.
        for (var second = 0; second < 300; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(2, Ct);
        }

        for (var i = 0; i < 200 && (await registry.GetLiveInstancesAsync(Ct)).Count == 0; i++)
        {
            await Task.Delay(10, Ct);
        }

        var live = Assert.Single(await registry.GetLiveInstancesAsync(Ct));
        Assert.Equal("web-1", live.InstanceId);
        Assert.True(live.LastSeen > clock.GetUtcNow() - TimeSpan.FromMinutes(2));

        await stop.CancelAsync();
        await loop;
        Assert.Empty(await registry.GetLiveInstancesAsync(Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => registry.RunHeartbeatAsync("web-1", new BuildSnapshot("1.0", [1]), "host-a", TimeSpan.FromMinutes(2), false, Ct));
    }

    [Fact]
    public async Task A_SQLite_lease_is_renewed_while_its_holder_runs_and_deleted_when_released()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        var clock = Clock();
        var options = new FleetMigratorOptions { LockTimeout = TimeSpan.FromSeconds(1), SqliteLeaseDuration = TimeSpan.FromMinutes(3) };
        var handle = await new MigrationLock(db.DataSource, SqlDialect.Sqlite, options, clock).AcquireAsync("long-apply", Ct);

        // Ten minutes of a long apply: without renewal the three-minute lease would have expired.
        for (var step = 0; step < 60; step++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(5, Ct);
        }

        var nowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        long expiresMs = 0;
        for (var i = 0; i < 200 && (expiresMs = await db.ScalarAsync("SELECT expires_at_ms FROM releasekit_migration_lock WHERE holder = 'long-apply'")) <= nowMs; i++)
        {
            await Task.Delay(10, Ct);
        }

        Assert.True(expiresMs > nowMs, $"the lease expires at {expiresMs}, the clock is at {nowMs}");

        await handle.DisposeAsync();
        Assert.Equal(0, await db.ScalarAsync("SELECT COUNT(*) FROM releasekit_migration_lock"));
    }
}
