using FluentMigrator;
using FluentMigrator.Runner;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;
using ReleaseKit.Migrations;

namespace ReleaseKit.Migrations.Tests
{
    public sealed class OutOfOrderRehearsalTests
    {
        private const string Namespace = "RunnerSamples.OutOfOrderClean";

        [Fact]
        public async Task A_migration_rolled_back_alone_below_the_highest_applied_one_is_really_re_applied_on_the_copy()
        {
            await using var db = await TestDatabase.CreateAsync(SqlDialect.Sqlite);
            await using (var services = db.RunnerServices(Namespace))
            {
                var runner = services.GetRequiredService<IMigrationRunner>();
                runner.MigrateUp(1);

                // 3 is applied (a hotfix branch), 2 is not.
                ((MigrationRunner)runner).ApplyMigrationUp(runner.MigrationLoader.LoadMigrations()[3], useTransaction: true);
            }

            var rehearsal = new RollbackRehearsal(
                db.DataSource,
                MigrationCatalog.FromAssembly(typeof(OutOfOrderRehearsalTests).Assembly, Namespace),
                cs => TestDatabase.RunnerServices(db.Dialect, cs, Namespace),
                new RollbackRehearsalOptions { KeepCopy = true });
            var report = await rehearsal.RehearseAsync(TestContext.Current.CancellationToken);
            try
            {
                Assert.True(report.IsClean, report.ToString());
                Assert.Equal([2L, 4L], report.Steps.Select(s => s.Version));

                // The copy ends where a release would leave the database: every migration applied, 2 included.
                await using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = report.Copy, Pooling = false }.ConnectionString);
                await copy.OpenAsync(TestContext.Current.CancellationToken);
                await using var command = copy.CreateCommand();
                command.CommandText = "SELECT group_concat(Version) FROM (SELECT Version FROM VersionInfo ORDER BY Version)";
                Assert.Equal("1,2,3,4", await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
            }
            finally
            {
                File.Delete(report.Copy);
            }
        }
    }
}

// Out of order with clean Downs: 1 and 3 are applied, 2 and 4 are pending.
namespace RunnerSamples.OutOfOrderClean
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateFirst : Migration
    {
        public override void Up() => Create.Table("first_t").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("first_t");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateSecond : Migration
    {
        public override void Up() => Create.Table("second_t").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("second_t");
    }

    [Migration(3)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateThird : Migration
    {
        public override void Up() => Create.Table("third_t").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("third_t");
    }

    [Migration(4)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateFourth : Migration
    {
        public override void Up() => Create.Table("fourth_t").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("fourth_t");
    }
}
