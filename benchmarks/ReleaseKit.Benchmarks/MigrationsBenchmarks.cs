using System.Data.Common;
using System.Reflection;
using System.Reflection.Emit;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FluentMigrator;
using FluentMigrator.Runner;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReleaseKit.Gates;
using ReleaseKit.Migrations;

namespace ReleaseKit.Benchmarks;

/// <summary>
/// Lint of 1,000 generated migrations beside FluentMigrator's own <c>IMigrationInformationLoader.LoadMigrations</c> over the
/// same assembly (the anchor); and the compatibility check of a Contract against 1,000 registered instances (registry read
/// plus window decision) beside a raw ADO.NET read of the same rows (the anchor), on SQLite and, when RELEASEKIT_POSTGRES is
/// set, on PostgreSQL.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MigrationsBenchmarks
{
    private const int MigrationCount = 1000;
    private const int InstanceCount = 1000;

    private Assembly _assembly = null!;
    private ServiceProvider _loaderServices = null!;

    [GlobalSetup(Targets = [nameof(LoadMigrations), nameof(Lint)])]
    public void SetupLint()
    {
        _assembly = GeneratedMigrations.Emit(MigrationCount);
        var services = new ServiceCollection();
        services.AddFluentMigratorCore().ConfigureRunner(rb => rb.ScanIn(_assembly).For.Migrations());
        _loaderServices = services.BuildServiceProvider();
    }

    [BenchmarkCategory("lint-1000"), Benchmark(Baseline = true)]
    public int LoadMigrations()
    {
        // A fresh scope: the loader caches what it loaded.
        using var scope = _loaderServices.CreateScope();
        return scope.ServiceProvider.GetRequiredService<IMigrationInformationLoader>().LoadMigrations().Count;
    }

    [BenchmarkCategory("lint-1000"), Benchmark]
    public int Lint() => MigrationLint.Lint(_assembly, SqlDialect.PostgreSql).Violations.Count;

    [ParamsSource(nameof(Dialects))]
    public SqlDialect Dialect { get; set; }

    public static IEnumerable<SqlDialect> Dialects() =>
        string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("RELEASEKIT_POSTGRES")) ? [SqlDialect.Sqlite] : [SqlDialect.Sqlite, SqlDialect.PostgreSql];

    private DbDataSource _dataSource = null!;
    private FleetRegistry _registry = null!;
    private string? _directory;
    private string? _postgresName;

    [GlobalSetup(Targets = [nameof(ReadInstanceRows), nameof(CanApplyContract)])]
    public async Task SetupFleet()
    {
        if (Dialect == SqlDialect.Sqlite)
        {
            _directory = Directory.CreateTempSubdirectory("rk-bench-").FullName;
            _dataSource = SqliteFactory.Instance.CreateDataSource($"Data Source={Path.Combine(_directory, "fleet.db")}");
        }
        else
        {
            var admin = Environment.GetEnvironmentVariable("RELEASEKIT_POSTGRES")!;
            _postgresName = "rk_bench_" + Guid.NewGuid().ToString("N")[..12];
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE {_postgresName}", connection);
                await create.ExecuteNonQueryAsync();
            }

            _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(admin) { Database = _postgresName }.ConnectionString);
        }

        _registry = new FleetRegistry(_dataSource, new FleetRegistryOptions { InstanceExpiry = TimeSpan.FromDays(365) });
        var known = Enumerable.Range(1, 200).Select(v => (long)v).ToArray();
        var builds = new[] { new BuildSnapshot("1.0", known[..150]), new BuildSnapshot("2.0", known[..180]), new BuildSnapshot("3.0", known) };
        for (var i = 0; i < InstanceCount; i++)
        {
            await _registry.HeartbeatAsync($"instance-{i:D4}", builds[i % 3 == 0 ? 2 : 1 + (i % 2)], $"host-{i % 50}");
        }
    }

    [GlobalCleanup(Targets = [nameof(ReadInstanceRows), nameof(CanApplyContract)])]
    public async Task CleanupFleet()
    {
        await _dataSource.DisposeAsync();
        if (_directory is not null)
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(_directory, recursive: true);
        }

        if (_postgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable("RELEASEKIT_POSTGRES"));
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_postgresName} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    [BenchmarkCategory("window-1000-instances"), Benchmark(Baseline = true)]
    public async Task<int> ReadInstanceRows()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT instance_id, build_version, known_digest, known_migrations, host, started_at_ms, last_seen_ms FROM releasekit_fleet_instances";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows += reader.GetString(3).Length > 0 ? 1 : 0;
        }

        return rows;
    }

    [BenchmarkCategory("window-1000-instances"), Benchmark]
    public async Task<bool> CanApplyContract()
    {
        var live = await _registry.GetLiveInstancesAsync();
        return CompatibilityWindow.CanApply(200, Phase.Contract, live).IsAllowed;
    }
}

/// <summary>Emits an assembly of generated migrations: each derives from <see cref="GeneratedMigrationBase"/> and carries its attributes.</summary>
internal static class GeneratedMigrations
{
    private static readonly Dictionary<int, Assembly> Emitted = [];

    // Once per process: an in-process toolchain runs the global setup once per benchmark, and a file-loaded assembly cannot load twice.
    public static Assembly Emit(int count)
    {
        lock (Emitted)
        {
            if (!Emitted.TryGetValue(count, out var emitted))
            {
                Emitted[count] = emitted = EmitCore(count);
            }

            return emitted;
        }
    }

    private static Assembly EmitCore(int count)
    {
        // Persisted and loaded from a file: FluentMigrator's scanner calls GetExportedTypes, which a run-only dynamic assembly refuses.
        var name = $"ReleaseKit.Benchmarks.GeneratedMigrations{count}";
        var assembly = new PersistedAssemblyBuilder(new AssemblyName(name), typeof(object).Assembly);
        var module = assembly.DefineDynamicModule(name);
        var migration = typeof(MigrationAttribute).GetConstructor([typeof(long), typeof(string)])!;
        var phase = typeof(MigrationPhaseAttribute).GetConstructor([typeof(Phase)])!;
        for (var i = 1; i <= count; i++)
        {
            var type = module.DefineType($"Generated.Migration{i:D4}", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(GeneratedMigrationBase));
            type.SetCustomAttribute(new CustomAttributeBuilder(migration, [(long)i, $"generated {i}"]));
            type.SetCustomAttribute(new CustomAttributeBuilder(phase, [(Phase)(i % 3)]));
            type.DefineDefaultConstructor(MethodAttributes.Public);
            type.CreateType();
        }

        var path = Path.Combine(Directory.CreateTempSubdirectory("rk-bench-migrations-").FullName, name + ".dll");
        assembly.Save(path);
        return Assembly.LoadFrom(path);
    }
}

/// <summary>A migration whose expressions depend on its version: tables, columns, indexes, renames, drops and data.</summary>
public abstract class GeneratedMigrationBase : Migration
{
    private long Version => GetType().GetCustomAttribute<MigrationAttribute>()!.Version;

    public override void Up()
    {
        var v = Version;
        var table = $"t{v % 97}";
        switch (v % 5)
        {
            case 0:
                Create.Table($"new_{v}").WithColumn("id").AsInt64().PrimaryKey().WithColumn("name").AsString(200).Nullable();
                break;
            case 1:
                Alter.Table(table).AddColumn($"c{v}").AsDecimal(12, 2).Nullable();
                break;
            case 2:
                Create.Index($"ix_{v}").OnTable(table).OnColumn($"c{v - 1}").Ascending();
                break;
            case 3:
                Rename.Column($"c{v - 2}").OnTable(table).To($"r{v}");
                break;
            default:
                Delete.Column($"c{v - 3}").FromTable(table);
                Update.Table(table).Set(new { flag = 1 }).AllRows();
                break;
        }
    }

    public override void Down()
    {
        var v = Version;
        var table = $"t{v % 97}";
        switch (v % 5)
        {
            case 0:
                Delete.Table($"new_{v}");
                break;
            case 1:
                Delete.Column($"c{v}").FromTable(table);
                break;
            case 2:
                Delete.Index($"ix_{v}").OnTable(table);
                break;
            case 3:
                Rename.Column($"r{v}").OnTable(table).To($"c{v - 2}");
                break;
            default:
                Alter.Table(table).AddColumn($"c{v - 3}").AsDecimal(12, 2).Nullable();
                break;
        }
    }
}
