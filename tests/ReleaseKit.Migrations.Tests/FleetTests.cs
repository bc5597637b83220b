using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.Migrations;

namespace ReleaseKit.Migrations.Tests;

public sealed class FleetTests
{
    private const string Invoice = "RunnerSamples.Invoice";

    private static readonly MigrationCatalog Catalog = MigrationCatalog.FromAssembly(typeof(FleetTests).Assembly, Invoice);

    // Release 1 knows 1-2 (expand), release 2 adds the backfill (3), release 3 adds the contract (4).
    private static readonly BuildSnapshot Release1 = new("1.0", [1, 2]);
    private static readonly BuildSnapshot Release2 = new("2.0", [1, 2, 3]);
    private static readonly BuildSnapshot Release3 = Catalog.ToBuild("3.0");

    private static readonly FleetRegistryOptions RegistryOptions = new() { InstanceExpiry = TimeSpan.FromMinutes(2) };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 1, 15, 9, 0, 0, TimeSpan.Zero));

    private static FleetMigrator Migrator(TestDatabase db, IServiceProvider runner, FleetRegistry registry, string holder = "test") =>
        new(runner, Catalog, registry, db.DataSource, new FleetMigratorOptions { Holder = holder, LockTimeout = TimeSpan.FromMinutes(2), LockPollInterval = TimeSpan.FromMilliseconds(20) });

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Heartbeats_are_live_until_they_expire(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        var clock = Clock();
        var registry = new FleetRegistry(db.DataSource, RegistryOptions, clock);

        await registry.HeartbeatAsync("web-1", Release1, "host-a", Ct);
        clock.Advance(TimeSpan.FromMinutes(1));
        await registry.HeartbeatAsync("web-2", Release2, "host-b", Ct);
        await registry.HeartbeatAsync("web-1", Release1, "host-a", Ct);

        var live = await registry.GetLiveInstancesAsync(Ct);
        Assert.Equal(["web-1", "web-2"], live.Select(i => i.InstanceId));
        var web1 = live[0];
        Assert.Equal("1.0", web1.BuildVersion);
        Assert.Equal([1L, 2L], web1.KnownMigrations.Order());
        Assert.Equal("host-a", web1.Host);
        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromMinutes(1), web1.StartedAt);
        Assert.Equal(clock.GetUtcNow(), web1.LastSeen);

        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        await registry.HeartbeatAsync("web-2", Release2, "host-b", Ct);
        Assert.Equal(["web-2"], (await registry.GetLiveInstancesAsync(Ct)).Select(i => i.InstanceId));

        await registry.RemoveAsync("web-2", Ct);
        Assert.Empty(await registry.GetLiveInstancesAsync(Ct));
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Contract_is_refused_while_an_older_instance_heartbeats_and_applied_after_it_expires(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await using var runner = db.RunnerServices(Invoice);
        var clock = Clock();
        var registry = new FleetRegistry(db.DataSource, RegistryOptions, clock);
        var migrator = Migrator(db, runner, registry);
        await registry.HeartbeatAsync("old-1", Release2, "host-a", Ct);
        await registry.HeartbeatAsync("new-1", Release3, "host-b", Ct);

        var plan = await migrator.PlanAsync(Ct);
        Assert.Equal([1L, 2L, 3L, 4L], plan.Steps.Select(s => s.Version));
        Assert.Equal([true, true, true, false], plan.Steps.Select(s => s.MayRunNow));
        Assert.Equal(["old-1"], plan.Steps[3].BlockingInstances);
        Assert.Contains("DeleteColumn invoice", plan.Steps[3].Summary);
        Assert.Single(plan.ByPhase[Phase.Contract]);

        var expand = await migrator.ApplyAsync(Phase.Expand, Ct);
        Assert.Equal([1L, 2L], expand.Applied);
        Assert.False(expand.IsRefused);
        Assert.Equal(3, expand.StoppedAt);

        var refused = await migrator.ApplyAsync(Phase.Contract, Ct);
        Assert.Equal([3L], refused.Applied);
        Assert.True(refused.IsRefused);
        Assert.Equal(4, refused.StoppedAt);
        Assert.Equal(["old-1"], refused.BlockingInstances);
        Assert.Contains("old-1 (build 2.0)", refused.Reason);

        var gate = new ContractSafetyGate(Catalog, registry);
        Assert.Equal(Verdict.Fail, (await gate.EvaluateAsync(Context(runner, clock), Ct)).Verdict);

        clock.Advance(TimeSpan.FromMinutes(3));
        await registry.HeartbeatAsync("new-1", Release3, "host-b", Ct);
        Assert.Equal(Verdict.Pass, (await gate.EvaluateAsync(Context(runner, clock), Ct)).Verdict);

        var contract = await migrator.ApplyAsync(Phase.Contract, Ct);
        Assert.True(contract.Succeeded, contract.Reason);
        Assert.Equal([4L], contract.Applied);
        Assert.Equal(4, await db.ScalarAsync("SELECT COUNT(*) FROM apply_log"));
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_build_outside_the_window_does_not_become_ready_and_the_startup_gate_names_the_migration(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await using var runner = db.RunnerServices(Invoice);
        var clock = Clock();
        var registry = new FleetRegistry(db.DataSource, RegistryOptions, clock);
        Assert.True((await Migrator(db, runner, registry).ApplyAsync(Phase.Contract, Ct)).Succeeded);

        var services = new ServiceCollection();
        services.AddSingleton(db.DataSource);
        services.AddSingleton<TimeProvider>(clock);
        services.AddReleaseKit()
            .AddMigrations(o =>
            {
                o.MigrationsAssembly = typeof(FleetTests).Assembly;
                o.Namespace = Invoice;
                o.BuildVersion = "3.0";
            })
            .AddGates(g => g.AddMigrationGates());
        await using var provider = services.BuildServiceProvider();
        var gateRunner = provider.GetRequiredService<IReleaseGateRunner>();
        var request = new GateRunRequest { Manifest = new ReleaseManifest { ReleaseId = "r3", Version = "3.0" }, EnvironmentName = "production", Stages = [GateStage.Startup] };

        var current = await gateRunner.RunAsync(request, Ct);
        Assert.Equal(Verdict.Pass, current.Verdict);

        // An older build (release 2, which does not know Contract 4) starting against the same database.
        var older = new SchemaCompatibilityGate(MigrationCatalog.FromTypes(Catalog.Migrations.Where(m => m.Version < 4).Select(m => m.Type)), registry, "2.0");
        var result = await older.EvaluateAsync(Context(provider, clock), Ct);
        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("migration 4", result.Reason);
        Assert.Contains(result.Evidence, e => e.Name == "migration" && e.Observed == "4");

        // Release 1 against a database with only expand and backfill applied is inside the window.
        Assert.True(CompatibilityWindow.CanRunAgainst(Release1, (await registry.GetAppliedMigrationsAsync(Ct)).Where(a => a.Version < 4)).IsAllowed);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Four_concurrent_migrators_apply_each_migration_exactly_once(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        var registry = new FleetRegistry(db.DataSource, RegistryOptions, TimeProvider.System);
        var runners = Enumerable.Range(0, 4).Select(_ => db.RunnerServices(Invoice)).ToList();
        try
        {
            var results = await Task.WhenAll(runners.Select((r, i) => Task.Run(() => Migrator(db, r, registry, $"migrator-{i}").ApplyAsync(Phase.Contract, Ct), Ct)));

            Assert.All(results, r => Assert.True(r.Succeeded, r.Reason));
            Assert.Equal([1L, 2L, 3L, 4L], results.SelectMany(r => r.Applied).Order());
            for (var version = 1; version <= 4; version++)
            {
                Assert.Equal(1, await db.ScalarAsync($"SELECT COUNT(*) FROM apply_log WHERE version = {version}"));
            }

            Assert.Equal(4, await db.ScalarAsync("SELECT COUNT(*) FROM \"VersionInfo\""));
        }
        finally
        {
            foreach (var runner in runners)
            {
                await runner.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_failing_migration_leaves_the_previous_version_intact(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await using var runner = db.RunnerServices("RunnerSamples.Failing");
        var registry = new FleetRegistry(db.DataSource, RegistryOptions, TimeProvider.System);
        var catalog = MigrationCatalog.FromAssembly(typeof(FleetTests).Assembly, "RunnerSamples.Failing");
        var migrator = new FleetMigrator(runner, catalog, registry, db.DataSource);

        var result = await migrator.ApplyAsync(Phase.Contract, Ct);

        Assert.False(result.Succeeded);
        Assert.Equal([1L], result.Applied);
        Assert.Equal(2, result.StoppedAt);
        Assert.NotNull(result.Error);
        Assert.Contains("no_such_table", result.Reason);
        Assert.Equal([1L], (await registry.GetAppliedMigrationsAsync(Ct)).Select(a => a.Version));
        Assert.True(await db.TableExistsAsync("customer"));
        Assert.False(await db.TableExistsAsync("supplier"));
    }

    [Fact]
    public async Task A_second_migrator_times_out_with_a_clear_error_while_the_lock_is_held_on_PostgreSQL()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.PostgreSql);
        var options = new FleetMigratorOptions { LockTimeout = TimeSpan.FromMilliseconds(200) };
        var first = new MigrationLock(db.DataSource, SqlDialect.PostgreSql, options, TimeProvider.System);
        await using (await first.AcquireAsync("a", Ct))
        {
            var ex = await Assert.ThrowsAsync<TimeoutException>(() => new MigrationLock(db.DataSource, SqlDialect.PostgreSql, options, TimeProvider.System).AcquireAsync("b", Ct));
            Assert.Contains("advisory lock", ex.Message);
        }

        await using (await new MigrationLock(db.DataSource, SqlDialect.PostgreSql, options, TimeProvider.System).AcquireAsync("b", Ct))
        {
        }
    }

    [Fact]
    public async Task A_SQLite_lease_names_its_holder_and_a_dead_holders_lease_expires()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
        var clock = Clock();
        var options = new FleetMigratorOptions { LockTimeout = TimeSpan.FromSeconds(1), LockPollInterval = TimeSpan.FromSeconds(1), SqliteLeaseDuration = TimeSpan.FromMinutes(15) };
        // The dead process's clock stops when it dies, so it never renews its lease; it is never released either.
        var dead = new MigrationLock(db.DataSource, SqlDialect.Sqlite, options, Clock());
        _ = await dead.AcquireAsync("dead-process", Ct);

        var waiting = new MigrationLock(db.DataSource, SqlDialect.Sqlite, options, clock).AcquireAsync("b", Ct);
        while (!waiting.IsCompleted && clock.GetUtcNow() < new DateTimeOffset(2026, 1, 15, 9, 1, 0, TimeSpan.Zero))
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
            await Task.Delay(10, Ct);
        }

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => waiting);
        Assert.Contains("dead-process", ex.Message);

        clock.Advance(TimeSpan.FromMinutes(16));
        await using (await new MigrationLock(db.DataSource, SqlDialect.Sqlite, options, clock).AcquireAsync("b", Ct))
        {
        }
    }

    [Fact]
    public void AddMigrations_twice_registers_once_and_bad_options_fail_at_startup_naming_the_option()
    {
        var services = new ServiceCollection();
        var builder = services.AddReleaseKit();
        builder.AddMigrations(o => o.MigrationsAssembly = typeof(FleetTests).Assembly);
        builder.AddMigrations(o => o.MigrationsAssembly = typeof(FleetTests).Assembly);
        Assert.Single(services, d => d.ServiceType == typeof(FleetMigrator));

        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ReleaseKitMigrationsOptions>>().Value);
        Assert.Contains("ReleaseKitMigrationsOptions.BuildVersion", ex.Message);
    }

    private static GateContext Context(IServiceProvider services, TimeProvider clock) =>
        new("test", new ReleaseManifest { ReleaseId = "r", Version = "1" }, "production", GateStage.Promotion, services, clock, CancellationToken.None);
}
