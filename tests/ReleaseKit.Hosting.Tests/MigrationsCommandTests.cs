using System.Data.Common;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;
using ReleaseKit.Migrations;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

public sealed class MigrationsCommandTests
{
    /// <summary>The app with ReleaseKit.Migrations on a real database: a SQLite file or a fresh PostgreSQL database.</summary>
    private sealed class MigrationsApp : IAsyncDisposable
    {
        private readonly TempDirectory? _dbDirectory;
        private readonly PostgresDatabase? _postgres;

        private MigrationsApp(SqlDialect dialect, DbDataSource dataSource, TempDirectory? dbDirectory, PostgresDatabase? postgres, string migrationsNamespace, string buildVersion)
        {
            _dbDirectory = dbDirectory;
            Dialect = dialect;
            DataSource = dataSource;
            _postgres = postgres;
            App = new TestApp((services, releaseKit) =>
            {
                services.AddSingleton(dataSource);
                services.AddFluentMigratorCore().ConfigureRunner(rb =>
                {
                    if (dialect == SqlDialect.Sqlite)
                    {
                        rb.AddSQLite();
                    }
                    else
                    {
                        rb.AddPostgres();
                    }

                    rb.WithGlobalConnectionString(dataSource.ConnectionString).ScanIn(typeof(MigrationsCommandTests).Assembly).For.Migrations();
                });
                services.Configure<TypeFilterOptions>(o => { o.Namespace = migrationsNamespace; o.NestedNamespaces = true; });
                releaseKit.AddMigrations(o =>
                {
                    o.MigrationsAssembly = typeof(MigrationsCommandTests).Assembly;
                    o.Namespace = migrationsNamespace;
                    o.BuildVersion = buildVersion;
                    o.InstanceId = "test/1";
                }).AddGates(g => g.AddMigrationGates());
            });
        }

        public SqlDialect Dialect { get; }

        public TestApp App { get; }

        public DbDataSource DataSource { get; }

        public static async Task<MigrationsApp> CreateAsync(SqlDialect dialect = SqlDialect.Sqlite, string migrationsNamespace = "HostingSamples.Billing", string buildVersion = "2.0")
        {
            if (dialect == SqlDialect.PostgreSql)
            {
                var postgres = await Databases.PostgresAsync();
                return new MigrationsApp(dialect, postgres.DataSource, null, postgres, migrationsNamespace, buildVersion);
            }

            var directory = new TempDirectory();
            return new MigrationsApp(dialect, Databases.Sqlite(directory, "billing.db"), directory, null, migrationsNamespace, buildVersion);
        }

        public async Task<long> CountTablesAsync(string table)
        {
            await using var connection = await DataSource.OpenConnectionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = Dialect == SqlDialect.Sqlite
                ? $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
                : $"SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '{table}'";
            return Convert.ToInt64(await command.ExecuteScalarAsync());
        }

        public async ValueTask DisposeAsync()
        {
            App.Dispose();
            if (_postgres is not null)
            {
                await _postgres.DisposeAsync();
            }
            else
            {
                await DataSource.DisposeAsync();
            }

            _dbDirectory?.Dispose();
        }
    }

    [Fact]
    public async Task Plan_lists_every_pending_migration_with_its_phase_and_exits_0()
    {
        await using var app = await MigrationsApp.CreateAsync();

        var run = await app.App.RunAsync("migrations", "plan");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("3 pending migration(s)", run.Output);
        Assert.Contains("1 Expand HostingSamples.Billing.CreateInvoice", run.Output);
        Assert.Contains("3 Contract HostingSamples.Billing.DropTotal", run.Output);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Apply_runs_the_expand_phase_and_status_shows_what_is_applied_and_pending(SqlDialect dialect)
    {
        await using var app = await MigrationsApp.CreateAsync(dialect);

        var apply = await app.App.RunAsync("migrations", "apply", "--phase", "expand");
        var status = await app.App.RunAsync("migrations", "status");

        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Contains("Applied: 1, 2", apply.Output);
        Assert.Equal(1, await app.CountTablesAsync("invoice"));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("Applied migrations (2):", status.Output);
        Assert.Contains("Pending migrations (1):", status.Output);
        Assert.Contains("3 Contract HostingSamples.Billing.DropTotal", status.Output);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Apply_contract_is_refused_with_exit_code_1_while_an_older_build_is_live(SqlDialect dialect)
    {
        await using var app = await MigrationsApp.CreateAsync(dialect);
        Assert.Equal(0, (await app.App.RunAsync("migrations", "apply", "--phase", "expand")).ExitCode);
        // Release 1 (knows only migration 1) still heartbeats against the same database.
        var registry = app.App.Services.GetRequiredService<FleetRegistry>();
        await registry.HeartbeatAsync("old/1", new BuildSnapshot("1.0", [1L]), "old-host", TestContext.Current.CancellationToken);

        var run = await app.App.RunAsync("migrations", "apply", "--phase", "contract");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("old/1", run.Error);
    }

    [Fact]
    public async Task Lint_exits_0_when_clean_and_1_with_the_violation_when_not()
    {
        await using var clean = await MigrationsApp.CreateAsync();
        await using var unsafeApp = await MigrationsApp.CreateAsync(migrationsNamespace: "HostingSamples.Unsafe");

        var ok = await clean.App.RunAsync("migrations", "lint", "--dialect", "postgresql");
        var bad = await unsafeApp.App.RunAsync("migrations", "lint");

        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Assert.Contains(LintRules.DropTable, bad.Output);
        Assert.Contains("DropsATableInExpand", bad.Output);
    }

    [Fact]
    public async Task Migration_verbs_without_ReleaseKit_Migrations_exit_with_2_and_say_how_to_register_it()
    {
        using var app = TestApp.WithGates(g => g.AddGate("ok", _ => Gates.GateResult.Pass()));

        var run = await app.RunAsync("migrations", "plan");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("AddMigrations", run.Error);
    }

    [Fact]
    public async Task Invalid_migrations_options_exit_with_2()
    {
        using var app = new TestApp((_, releaseKit) => releaseKit.AddMigrations(o => o.BuildVersion = "2.0"));

        var run = await app.RunAsync("migrations", "status");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("MigrationsAssembly", run.Error);
    }
}
