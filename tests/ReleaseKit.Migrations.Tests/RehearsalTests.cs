using FluentMigrator.Runner;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations.Tests;

public sealed class RehearsalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RollbackRehearsal Rehearsal(TestDatabase db, string ns) => new(
        db.DataSource,
        MigrationCatalog.FromAssembly(typeof(RehearsalTests).Assembly, ns),
        connectionString => TestDatabase.RunnerServices(db.Dialect, connectionString, ns));

    private static async Task ApplyFirstAsync(TestDatabase db, string ns)
    {
        await using (var runner = db.RunnerServices(ns))
        {
            runner.GetRequiredService<IMigrationRunner>().MigrateUp(1);
        }

        if (db.DataSource is NpgsqlDataSource postgres)
        {
            // CREATE DATABASE ... TEMPLATE needs no other session on the original: close the pool's idle connections.
            postgres.Clear();
            NpgsqlConnection.ClearAllPools();
        }
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Rehearsal_on_a_copy_reports_a_Down_that_loses_a_table_and_leaves_the_original_untouched(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await ApplyFirstAsync(db, "RunnerSamples.Rehearsal");

        var report = await Rehearsal(db, "RunnerSamples.Rehearsal").RehearseAsync(Ct);

        Assert.Equal(1, report.StartVersion);
        Assert.Equal([2L, 3L], report.Steps.Select(s => s.Version));
        Assert.Equal(RehearsalOutcome.Passed, report.Steps[0].Outcome);
        Assert.Equal(RehearsalOutcome.DataLost, report.Steps[1].Outcome);
        Assert.Contains("item", report.Steps[1].Detail);
        Assert.Contains("(3 rows) is gone", report.Steps[1].Detail);
        Assert.False(report.IsClean);

        // The original: still at version 1, with its three rows and no column or table of the rehearsed migrations.
        Assert.Equal(1, await db.ScalarAsync("SELECT COUNT(*) FROM \"VersionInfo\""));
        Assert.Equal(3, await db.ScalarAsync("SELECT COUNT(*) FROM item"));
        Assert.False(await db.TableExistsAsync("tag"));
        Assert.Equal(0, await db.ScalarAsync(dialect == SqlDialect.Sqlite
            ? "SELECT COUNT(*) FROM pragma_table_info('item') WHERE name = 'note'"
            : "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'item' AND column_name = 'note'"));
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Rehearsal_reports_a_migration_whose_Down_fails_and_stops_there(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await ApplyFirstAsync(db, "RunnerSamples.BrokenDown");

        var report = await Rehearsal(db, "RunnerSamples.BrokenDown").RehearseAsync(Ct);

        Assert.Equal([RehearsalOutcome.DownFailed, RehearsalOutcome.NotRehearsed], report.Steps.Select(s => s.Outcome));
        Assert.Equal(2, report.Problems.First().Version);
        Assert.Contains("no_such_table", report.Steps[0].Detail);
        Assert.Equal(1, await db.ScalarAsync("SELECT COUNT(*) FROM \"VersionInfo\""));
        Assert.False(await db.TableExistsAsync("other"));
    }

    [Fact]
    public async Task Rehearsal_of_migrations_with_clean_Downs_passes_and_drops_its_copy()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);

        var report = await Rehearsal(db, "RunnerSamples.Invoice").RehearseAsync(Ct);

        Assert.True(report.IsClean, report.ToString());
        Assert.Equal([1L, 2L, 3L, 4L], report.Steps.Select(s => s.Version));
        Assert.False(File.Exists(report.Copy));
        Assert.False(await db.TableExistsAsync("invoice"));
    }
}
