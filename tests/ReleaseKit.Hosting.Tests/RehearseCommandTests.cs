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

        private RehearsalApp(SqlDialect dialect, DbDataSource dataSource, TempDirectory? dbDirectory, PostgresDatabase? postgres, string ns, Action<IReleaseKitBuilder>? checks, Action<IServiceCollection, DbDataSource>? more)
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

                more?.Invoke(services, dataSource);
            });
        }

        public SqlDialect Dialect { get; }

        public DbDataSource DataSource { get; }

        public TestApp App { get; }

        public static async Task<RehearsalApp> CreateAsync(SqlDialect dialect, string ns, Action<IReleaseKitBuilder>? checks = null, Action<IServiceCollection, DbDataSource>? more = null)
        {
            if (dialect == SqlDialect.PostgreSql)
            {
                var postgres = await Databases.PostgresAsync();
                return new RehearsalApp(dialect, postgres.DataSource, null, postgres, ns, checks, more);
            }

            var directory = new TempDirectory();
            return new RehearsalApp(dialect, Databases.Sqlite(directory, "billing.db"), directory, null, ns, checks, more);
        }

        /// <summary>Applies the app's migrations up to <paramref name="version"/> on the original and adds one invoice.</summary>
        public Task MigrateOriginalAsync(long version, string insert) => ApplyOriginalAsync(version, [], insert);

        /// <summary>
        /// Applies the app's migrations up to <paramref name="version"/> on the original, then only the migrations in
        /// <paramref name="alone"/> (out of order, as a hotfix branch would), and adds one invoice.
        /// </summary>
        public async Task ApplyOriginalAsync(long version, long[] alone, string insert)
        {
            using (var scope = App.Services.CreateScope())
            {
                var runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
                runner.MigrateUp(version);
                var migrations = runner.MigrationLoader.LoadMigrations();
                foreach (var migration in alone)
                {
                    ((MigrationRunner)runner).ApplyMigrationUp(migrations[migration], useTransaction: true);
                }
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

    /// <summary>The current build has invoice.note (migration 2); the previous build does not.</summary>
    private static async ValueTask<GateResult> NoteMatchesTheBuildAsync(SyntheticCheckContext context, CancellationToken cancellationToken)
    {
        await using var connection = await context.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = context.Dialect == SqlDialect.Sqlite
            ? "SELECT COUNT(*) FROM pragma_table_info('invoice') WHERE name = 'note'"
            : "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'invoice' AND column_name = 'note'";
        var present = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) == 1;
        var expected = context.Expectations == SyntheticExpectations.Current;
        return present == expected
            ? GateResult.Pass($"invoice.note is {(present ? "there" : "absent")}, as the {context.Expectations.ToString().ToLowerInvariant()} build expects.")
            : GateResult.Fail($"invoice.note is {(present ? "there" : "absent")}; the {context.Expectations.ToString().ToLowerInvariant()} build expects it {(expected ? "there" : "absent")}.");
    }

    private static string CopyPath(CommandRun run) =>
        System.Text.RegularExpressions.Regex.Match(run.Output, "Copied the database to (?<path>[^;]+);").Groups["path"].Value;

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_migration_pending_below_the_start_is_rolled_back_with_its_own_Down_before_the_previous_build_is_checked(SqlDialect dialect)
    {
        await using var app = await RehearsalApp.CreateAsync(dialect, "RehearsalSamples.OutOfOrder", releaseKit => releaseKit.AddSyntheticCheck("note-matches-build", NoteMatchesTheBuildAsync));
        await app.ApplyOriginalAsync(1, [3], "INSERT INTO invoice (id, total) VALUES (1, 120.50)");

        var run = await app.App.RunAsync("rehearse");

        // Applied {1, 3}, pending {2, 4}: MigrateDown(3) takes off 4 only; 2 needs its own Down before the previous build is judged.
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches("(?m)^PASS +rollback +Rolled back to version 3 and ran the Down of 2 ", run.Output);
        Assert.Contains("applied-versions=1,3 (threshold 1,3)", run.Output);
        Assert.Matches("(?m)^PASS +after-rollback ", run.Output);
        Assert.Contains("applied-versions=1,2,3,4 (threshold 1,2,3,4)", run.Output);
        Assert.Matches("(?m)^PASS +after-reapply ", run.Output);
        Assert.Equal("1,3 | id,total | 1", await app.ShapeAsync());
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Only_a_migration_pending_below_the_start_applies_rolls_back_and_reapplies_judged_by_the_set_of_applied_versions(SqlDialect dialect)
    {
        await using var app = await RehearsalApp.CreateAsync(dialect, "RehearsalSamples.OutOfOrder", releaseKit => releaseKit.AddSyntheticCheck("note-matches-build", NoteMatchesTheBuildAsync));
        await app.ApplyOriginalAsync(1, [3, 4], "INSERT INTO invoice (id, total) VALUES (1, 120.50)");

        var run = await app.App.RunAsync("rehearse");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("schema version 4 -> 4", run.Output);
        Assert.Matches("(?m)^PASS +apply +Applied 1 pending migration\\(s\\): schema version 4\\.", run.Output);
        Assert.Contains("applied-versions=1,3,4 (threshold 1,3,4)", run.Output);
        Assert.Contains("PASS rehearse: all 7 steps passed.", run.Output);
        Assert.Equal("1,3,4 | id,total | 1", await app.ShapeAsync());
    }

    [Fact]
    public async Task Sensitive_evidence_is_masked_in_the_console_the_text_file_and_the_json_report()
    {
        const string Token = "tok-9f8e7d6c5b4a";
        const string Expected = "expected-key-1a2b3c";
        await using var app = await RehearsalApp.CreateAsync(SqlDialect.Sqlite, "RehearsalSamples.ExpandOnly", releaseKit => releaseKit
            .AddSyntheticCheck("erp-login", (_, _) => ValueTask.FromResult(GateResult.Fail(
                $"The ERP sandbox refused {Token}.",
                Evidence.Secret("api-token", Token),
                new Evidence("signing-key", "observed-key-4d5e6f", Expected, isSensitive: true)))));
        await app.MigrateOriginalAsync(1, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");
        var textDirectory = app.App.Directory.File("text");
        var jsonDirectory = app.App.Directory.File("json");

        var text = await app.App.RunAsync("rehearse", "--out", textDirectory);
        var json = await app.App.RunAsync("rehearse", "--format", "json", "--out", jsonDirectory);

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.Contains("api-token=***", text.Output);
        Assert.Contains("signing-key=*** (threshold ***)", text.Output);
        Assert.True(json.ExitCode == 1, json.ToString());
        var file = await File.ReadAllTextAsync(Path.Combine(textDirectory, "rehearsal.txt"), TestContext.Current.CancellationToken);
        foreach (var report in new[] { text.Output, file, json.Output })
        {
            Assert.DoesNotContain(Token, report);
            Assert.DoesNotContain("observed-key-4d5e6f", report);
            Assert.DoesNotContain(Expected, report);
        }

        using var document = System.Text.Json.JsonDocument.Parse(json.Output);
        var signingKey = document.RootElement.GetProperty("steps").EnumerateArray()
            .SelectMany(s => s.TryGetProperty("checks", out var checks) ? checks.EnumerateArray() : Enumerable.Empty<System.Text.Json.JsonElement>())
            .SelectMany(c => c.GetProperty("evidence").EnumerateArray())
            .First(e => e.GetProperty("name").GetString() == "signing-key");
        Assert.Equal("***", signingKey.GetProperty("observed").GetString());
        Assert.Equal("***", signingKey.GetProperty("threshold").GetString());
    }

    [Fact]
    public async Task A_check_that_blocks_and_ignores_its_token_fails_at_the_timeout_and_the_copy_is_still_dropped()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 14, 0, 0, TimeSpan.Zero));
        using var entered = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        await using var app = await RehearsalApp.CreateAsync(
            SqlDialect.Sqlite,
            "RehearsalSamples.ExpandOnly",
            releaseKit => releaseKit
                .AddSyntheticCheck("blocks", (_, _) =>
                {
                    entered.Release();
                    release.Wait(); // blocks its thread and never looks at the token
                    return ValueTask.FromResult(GateResult.Pass());
                })
                .AddRehearsal(o => o.CheckTimeout = TimeSpan.FromMinutes(1)),
            (services, _) => services.AddSingleton<TimeProvider>(clock));
        await app.MigrateOriginalAsync(2, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");
        try
        {
            var rehearse = Task.Run(() => app.App.RunAsync("rehearse"), TestContext.Current.CancellationToken);
            await entered.WaitAsync(TestContext.Current.CancellationToken);
            clock.Advance(TimeSpan.FromMinutes(2));

            // A guard, not a timing assertion: before the fix the command never returned.
            var run = await rehearse.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);

            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Contains("did not finish within 00:01:00", run.Output);
            Assert.Contains("stopped-when-cancelled=no: abandoned while still running", run.Output);
            Assert.False(File.Exists(CopyPath(run)), $"the copy {CopyPath(run)} is left behind");
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task An_out_folder_that_cannot_be_created_exits_2_before_anything_is_copied_or_checked()
    {
        var runs = 0;
        await using var app = await RehearsalApp.CreateAsync(SqlDialect.Sqlite, "RehearsalSamples.ExpandOnly", releaseKit => releaseKit
            .AddSyntheticCheck("counts", (_, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult(GateResult.Pass());
            }));
        await app.MigrateOriginalAsync(1, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");
        var blocker = app.App.Directory.Write("blocker", "a file where the folder would go");

        var run = await app.App.RunAsync("rehearse", "--out", Path.Combine(blocker, "reports"));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--out", run.Error);
        Assert.Equal(0, runs);
        Assert.DoesNotContain("Copied the database", run.Output);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Connections_and_driver_data_sources_the_app_registers_resolve_to_the_copy_so_a_check_never_writes_the_original(SqlDialect dialect)
    {
        static async Task InsertAsync(DbConnection connection, CancellationToken cancellationToken)
        {
            if (connection.State != System.Data.ConnectionState.Open)
            {
                await connection.OpenAsync(cancellationToken);
            }

            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO invoice (id, total, amount_due) SELECT COALESCE(MAX(id), 0) + 1, 1, 1 FROM invoice";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var app = await RehearsalApp.CreateAsync(
            dialect,
            "RehearsalSamples.ExpandOnly",
            releaseKit => releaseKit.AddSyntheticCheck("writes", async (context, ct) =>
            {
                if (context.Expectations == SyntheticExpectations.Previous)
                {
                    return GateResult.Pass("The previous build's schema has no amount_due to write.");
                }

                await using (var connection = context.Services.GetRequiredService<DbConnection>())
                {
                    await InsertAsync(connection, ct);
                }

                await InsertAsync((DbConnection)context.Services.GetRequiredService<System.Data.IDbConnection>(), ct);
                if (context.Services.GetService<NpgsqlDataSource>() is { } npgsql)
                {
                    await using var connection = await npgsql.OpenConnectionAsync(ct);
                    await InsertAsync(connection, ct);
                }

                return GateResult.Pass();
            }),
            (services, original) =>
            {
                // Handles an application registers on the ORIGINAL, besides DbDataSource.
                services.AddTransient<DbConnection>(_ => original.CreateConnection());
                services.AddScoped<System.Data.IDbConnection>(_ => original.CreateConnection());
                if (original is NpgsqlDataSource npgsql)
                {
                    services.AddSingleton(npgsql);
                }
            });
        await app.MigrateOriginalAsync(1, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");
        var before = await app.ShapeAsync();

        var run = await app.App.RunAsync("rehearse");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("1 | id,total | 1", before);
        Assert.Equal(before, await app.ShapeAsync());
    }

    [Fact]
    public async Task A_data_source_type_the_copy_cannot_stand_in_for_exits_2_instead_of_running_checks_against_the_original()
    {
        var runs = 0;
        await using var app = await RehearsalApp.CreateAsync(
            SqlDialect.Sqlite,
            "RehearsalSamples.ExpandOnly",
            releaseKit => releaseKit.AddSyntheticCheck("counts", (_, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult(GateResult.Pass());
            }),
            (services, original) => services.AddSingleton(new TenantDataSource(original)));
        await app.MigrateOriginalAsync(1, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");

        var run = await app.App.RunAsync("rehearse");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(typeof(TenantDataSource).FullName!, run.Error);
        Assert.Contains("ORIGINAL", run.Error);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task Each_run_of_a_check_class_gets_its_own_scope_and_the_check_and_the_scope_are_disposed()
    {
        var log = new DisposalLog();
        await using var app = await RehearsalApp.CreateAsync(
            SqlDialect.Sqlite,
            "RehearsalSamples.ExpandOnly",
            releaseKit => releaseKit.AddSyntheticCheck<DisposableCheck>("disposable"),
            (services, _) => services.AddSingleton(log).AddScoped<ScopedProbe>());
        await app.MigrateOriginalAsync(1, "INSERT INTO invoice (id, total) VALUES (1, 120.50)");

        var run = await app.App.RunAsync("rehearse");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(3, log.Checks);
        Assert.Equal(3, log.ChecksDisposed);
        Assert.Equal(3, log.Probes);
        Assert.Equal(3, log.ProbesDisposed);
    }

    [Fact]
    public async Task Checks_registered_without_the_recorded_service_collection_exit_2_and_say_that_is_what_is_missing()
    {
        using var app = new TestApp((services, releaseKit) =>
        {
            services.AddSingleton<DbDataSource>(Microsoft.Data.Sqlite.SqliteFactory.Instance.CreateDataSource("Data Source=billing.db"));
            releaseKit.AddMigrations(o => { o.MigrationsAssembly = typeof(RehearseCommandTests).Assembly; o.Namespace = "RehearsalSamples.ExpandOnly"; o.BuildVersion = "2.0"; })
                .AddSyntheticCheck("ok", (_, _) => ValueTask.FromResult(GateResult.Pass()));
            services.Remove(services.Single(d => d.ServiceType == typeof(ReleaseKit.Hosting.Rehearsal.ApplicationServices)));
        });

        var run = await app.RunAsync("rehearse");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("1 synthetic check(s) are registered", run.Error);
        Assert.Contains("AddRehearsal()", run.Error);
        Assert.DoesNotContain("No synthetic checks", run.Error);
    }

    private sealed class DisposalLog
    {
        private int _checks;
        private int _checksDisposed;
        private int _probes;
        private int _probesDisposed;

        public int Checks => _checks;

        public int ChecksDisposed => _checksDisposed;

        public int Probes => _probes;

        public int ProbesDisposed => _probesDisposed;

        public void Check() => Interlocked.Increment(ref _checks);

        public void CheckDisposed() => Interlocked.Increment(ref _checksDisposed);

        public void Probe() => Interlocked.Increment(ref _probes);

        public void ProbeDisposed() => Interlocked.Increment(ref _probesDisposed);
    }

    /// <summary>A scoped service of the application (a unit of work, a DbContext).</summary>
    private sealed class ScopedProbe : IDisposable
    {
        private readonly DisposalLog _log;

        public ScopedProbe(DisposalLog log)
        {
            _log = log;
            log.Probe();
        }

        public void Dispose() => _log.ProbeDisposed();
    }

    private sealed class DisposableCheck : ISyntheticCheck, IAsyncDisposable
    {
        private readonly DisposalLog _log;

        public DisposableCheck(DisposalLog log, ScopedProbe probe)
        {
            _log = log;
            _ = probe;
            log.Check();
        }

        public ValueTask<GateResult> RunAsync(SyntheticCheckContext context, CancellationToken cancellationToken) => ValueTask.FromResult(GateResult.Pass());

        public ValueTask DisposeAsync()
        {
            _log.CheckDisposed();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>An application's own data source type (a tenant-routing wrapper), which the copy cannot be handed out as.</summary>
    private sealed class TenantDataSource(DbDataSource inner) : DbDataSource
    {
        public override string ConnectionString => inner.ConnectionString;

        protected override DbConnection CreateDbConnection() => inner.CreateConnection();
    }
}
