using System.Data.Common;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

public sealed class RehearseCommandTests
{
    /// <summary>
    /// The two builds' expectations of invoices: the current build bills amount_due (falling back to total until the Contract,
    /// version 3, drops it), the previous build bills total. Each counts the invoices it cannot bill.
    /// </summary>
    private static async ValueTask<GateResult> InvoicesReadableAsync(SyntheticCheckContext context, CancellationToken cancellationToken)
    {
        var column = context.Expectations == SyntheticExpectations.Previous ? "total" : context.SchemaVersion >= 3 ? "amount_due" : "COALESCE(amount_due, total)";
        await using var connection = await context.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM invoice WHERE {column} IS NULL";
        var empty = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
        return empty == 0
            ? GateResult.Pass($"Every invoice has {column}.", Evidence.Of($"invoices-without-{column}", empty, 0))
            : GateResult.Fail($"{empty} invoice(s) without {column}: the {context.Expectations.ToString().ToLowerInvariant()} build cannot bill them.", Evidence.Of($"invoices-without-{column}", empty, 0));
    }

    private sealed class RehearsalApp : IAsyncDisposable
    {
        private readonly TempDirectory? _dbDirectory;
        private readonly PostgresDatabase? _postgres;

        private RehearsalApp(SqlDialect dialect, DbDataSource dataSource, TempDirectory? dbDirectory, PostgresDatabase? postgres, string ns, Action<IReleaseKitBuilder>? checks)
        {
            Dialect = dialect;
            DataSource = dataSource;
            _dbDirectory = dbDirectory;
            _postgres = postgres;
            App = new TestApp((services, releaseKit) =>
            {
                services.AddSingleton(dataSource);
                services.AddFluentMigratorCore().ConfigureRunner(rb =>
                {
                    _ = dialect == SqlDialect.Sqlite ? rb.AddSQLite() : rb.AddPostgres();
                    rb.WithGlobalConnectionString(dataSource.ConnectionString).ScanIn(typeof(RehearseCommandTests).Assembly).For.Migrations();
                });
                services.Configure<TypeFilterOptions>(o => { o.Namespace = ns; o.NestedNamespaces = true; });
                releaseKit.AddMigrations(o =>
                {
                    o.MigrationsAssembly = typeof(RehearseCommandTests).Assembly;
                    o.Namespace = ns;
                    o.BuildVersion = "2.0";
                    o.InstanceId = "test/1";
                });
                if (checks is null)
                {
                    releaseKit.AddSyntheticCheck("invoices-readable", InvoicesReadableAsync);
                }
                else
                {
                    checks(releaseKit);
                }
            });
        }

        public SqlDialect Dialect { get; }

        public DbDataSource DataSource { get; }

        public TestApp App { get; }

        public static async Task<RehearsalApp> CreateAsync(SqlDialect dialect, string ns, Action<IReleaseKitBuilder>? checks = null)
        {
            if (dialect == SqlDialect.PostgreSql)
            {
                var postgres = await Databases.PostgresAsync();
                return new RehearsalApp(dialect, postgres.DataSource, null, postgres, ns, checks);
            }

            var directory = new TempDirectory();
            return new RehearsalApp(dialect, Databases.Sqlite(directory, "billing.db"), directory, null, ns, checks);
        }

        /// <summary>Applies the app's migrations up to <paramref name="version"/> on the original and adds one invoice.</summary>
        public async Task MigrateOriginalAsync(long version, string insert)
        {
            using (var scope = App.Services.CreateScope())
            {
                scope.ServiceProvider.GetRequiredService<IMigrationRunner>().MigrateUp(version);
            }

            await ExecuteAsync(insert);
            if (DataSource is NpgsqlDataSource postgres)
            {
                // CREATE DATABASE ... TEMPLATE needs no other session on the original.
                postgres.Clear();
                NpgsqlConnection.ClearAllPools();
            }
        }

        public async Task ExecuteAsync(string sql)
        {
            await using var connection = await DataSource.OpenConnectionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>The original's shape: applied versions and invoice columns.</summary>
        public async Task<string> ShapeAsync()
        {
            await using var connection = await DataSource.OpenConnectionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = Dialect == SqlDialect.Sqlite
                ? "SELECT (SELECT group_concat(Version) FROM (SELECT Version FROM VersionInfo ORDER BY Version)) || ' | ' || (SELECT group_concat(name) FROM (SELECT name FROM pragma_table_info('invoice') ORDER BY name)) || ' | ' || (SELECT COUNT(*) FROM invoice)"
                : "SELECT (SELECT string_agg(\"Version\"::text, ',' ORDER BY \"Version\") FROM \"VersionInfo\") || ' | ' || (SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'invoice') || ' | ' || (SELECT COUNT(*) FROM invoice)";
            var shape = (string)(await command.ExecuteScalarAsync())!;
            if (DataSource is NpgsqlDataSource postgres)
            {
                postgres.Clear();
                NpgsqlConnection.ClearAllPools();
            }

            return shape;
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

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_clean_expand_passes_every_step_exits_0_and_leaves_the_original_untouched(SqlDialect dialect)
    {
        await using var app = await RehearsalApp.CreateAsync(dialect, "RehearsalSamples.ExpandOnly");
        await app.MigrateOriginalAsync(1, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");
        var before = await app.ShapeAsync();

        var run = await app.App.RunAsync("rehearse");

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var step in new[] { "copy", "apply", "after-apply", "rollback", "after-rollback", "reapply", "after-reapply" })
        {
            Assert.Matches($"(?m)^PASS +{step} ", run.Output);
        }

        Assert.Contains("2 RehearsalSamples.ExpandOnly.AddAmountDue (Expand)", run.Output);
        Assert.Equal(before, await app.ShapeAsync());
        Assert.Equal("1 | id,total | 1", before);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_check_reading_a_column_the_contract_dropped_fails_on_previous_expectations_with_exit_1(SqlDialect dialect)
    {
        await using var app = await RehearsalApp.CreateAsync(dialect, "RehearsalSamples.WithContract");
        await app.MigrateOriginalAsync(2, "INSERT INTO invoice (id, total, amount_due) VALUES (1, 120.50, 120.50)");
        var before = await app.ShapeAsync();

        var run = await app.App.RunAsync("rehearse");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Matches("(?m)^PASS +after-apply ", run.Output);
        Assert.Matches("(?m)^FAIL +after-rollback ", run.Output);
        Assert.Contains("1 invoice(s) without total: the previous build cannot bill them.", run.Output);
        Assert.Contains("invoices-without-total=1 (threshold 0)", run.Output);
        Assert.Matches("(?m)^PASS +after-reapply ", run.Output);
        Assert.Contains("FAIL rehearse: 1 of 7 steps did not pass: after-rollback.", run.Output);
        Assert.Equal(before, await app.ShapeAsync());
        Assert.Equal("1,2 | amount_due,id,total | 1", before);
    }

    [Fact]
    public async Task A_check_that_throws_fails_with_the_exception_as_evidence_in_json()
    {
        await using var app = await RehearsalApp.CreateAsync(SqlDialect.Sqlite, "RehearsalSamples.ExpandOnly", releaseKit => releaseKit
            .AddSyntheticCheck("invoices-readable", InvoicesReadableAsync)
            .AddSyntheticCheck("throws", (_, _) => throw new InvalidOperationException("The ERP sandbox is unreachable.")));
        await app.MigrateOriginalAsync(1, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");
        var outDirectory = app.App.Directory.File("artifacts");

        var run = await app.App.RunAsync("rehearse", "--format", "json", "--out", outDirectory);

        Assert.True(run.ExitCode == 1, run.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(run.Output);
        Assert.Equal("fail", json.RootElement.GetProperty("verdict").GetString());
        var afterApply = json.RootElement.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "after-apply");
        var thrown = afterApply.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "throws");
        Assert.Equal("fail", thrown.GetProperty("verdict").GetString());
        Assert.Contains(thrown.GetProperty("evidence").EnumerateArray(), e => e.GetProperty("observed").GetString() == "System.InvalidOperationException: The ERP sandbox is unreachable.");
        Assert.Equal(run.Output, await File.ReadAllTextAsync(Path.Combine(outDirectory, "rehearsal.json"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Rehearse_without_migrations_exits_2_and_says_how_to_register_them()
    {
        using var app = new TestApp((_, releaseKit) => releaseKit.AddSyntheticCheck("ok", (_, _) => ValueTask.FromResult(GateResult.Pass())));

        var run = await app.RunAsync("rehearse");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("AddMigrations", run.Error);
    }

    [Fact]
    public async Task Rehearse_without_synthetic_checks_exits_2_and_says_how_to_register_one()
    {
        await using var app = await RehearsalApp.CreateAsync(SqlDialect.Sqlite, "RehearsalSamples.ExpandOnly", _ => { });

        var run = await app.App.RunAsync("rehearse");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("AddSyntheticCheck", run.Error);
    }

    [Fact]
    public async Task Rehearse_with_an_in_memory_database_exits_2_and_says_it_needs_a_file()
    {
        using var app = new TestApp((services, releaseKit) =>
        {
            services.AddSingleton<DbDataSource>(Microsoft.Data.Sqlite.SqliteFactory.Instance.CreateDataSource("Data Source=:memory:"));
            releaseKit.AddMigrations(o => { o.MigrationsAssembly = typeof(RehearseCommandTests).Assembly; o.Namespace = "RehearsalSamples.ExpandOnly"; o.BuildVersion = "2.0"; })
                .AddSyntheticCheck("ok", (_, _) => ValueTask.FromResult(GateResult.Pass()));
        });

        var run = await app.RunAsync("rehearse");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("in memory", run.Error);
    }

    [Fact]
    public async Task Rehearse_with_an_unknown_format_exits_2_and_lists_the_allowed_ones()
    {
        using var app = new TestApp((_, releaseKit) => releaseKit.AddSyntheticCheck("ok", (_, _) => ValueTask.FromResult(GateResult.Pass())));

        var run = await app.RunAsync("rehearse", "--format", "html");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("console", run.Error);
        Assert.Contains("json", run.Error);
    }

    [Fact]
    public void Two_synthetic_checks_with_the_same_name_are_refused_at_registration()
    {
        var builder = new ServiceCollection().AddReleaseKit().AddSyntheticCheck("invoices", (_, _) => ValueTask.FromResult(GateResult.Pass()));

        var error = Assert.Throws<ArgumentException>(() => builder.AddSyntheticCheck("Invoices", (_, _) => ValueTask.FromResult(GateResult.Pass())));

        Assert.Contains("'invoices' is already registered", error.Message);
    }
}
