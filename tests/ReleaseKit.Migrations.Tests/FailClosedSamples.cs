using FluentMigrator;
using ReleaseKit.Migrations;

#pragma warning disable CA1812, CA1852

// A long apply: an Expand, a batched Backfill (three batches of two rows) and a Contract that drops the backfilled column's source.
namespace RunnerSamples.LongBackfill
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateDoc : Migration
    {
        public override void Up()
        {
            Create.Table("doc").WithColumn("id").AsInt64().PrimaryKey().WithColumn("body").AsInt32().Nullable().WithColumn("body_copy").AsInt32().Nullable();
            for (var id = 1; id <= 6; id++)
            {
                Insert.IntoTable("doc").Row(new { id = (long)id, body = id * 10 });
            }
        }

        public override void Down() => Delete.Table("doc");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Backfill)]
    public sealed class CopyBody : Migration, IBatchedBackfill
    {
        public BackfillDefinition Backfill { get; } = new(
            "doc-body-copy",
            "doc",
            "id",
            2,
            (batch, ct) => batch.ExecuteAsync("UPDATE doc SET body_copy = body WHERE id > @from AND id <= @to", ct));

        public override void Up()
        {
        }

        public override void Down()
        {
        }
    }

    [Migration(3)]
    [MigrationPhase(Phase.Contract, Completes = 1)]
    public sealed class DropBody : Migration
    {
        public override void Up() => Delete.Column("body").FromTable("doc");

        public override void Down() => Alter.Table("doc").AddColumn("body").AsInt32().Nullable();
    }
}

// Rollback rehearsal out of order: 1 and 3 are applied, 2 is pending below 3 and its Down fails.
namespace RunnerSamples.OutOfOrder
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
    [RawSqlSignOff("Fails on purpose in tests.")]
    public sealed class LateWithBrokenDown : Migration
    {
        public override void Up() => Create.Table("second_t").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Execute.Sql("DROP TABLE no_such_table");
    }

    [Migration(3)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateThird : Migration
    {
        public override void Up() => Create.Table("third_t").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("third_t");
    }
}

// The invoice sample's migration 3 (a Backfill there) declared as a Contract by another build.
namespace RunnerSamples.PhaseChanged
{
    [Migration(3)]
    [MigrationPhase(Phase.Contract)]
    [RawSqlSignOff("Same SQL as the invoice sample; only the phase differs.")]
    public sealed class CopyTotalToAmountDue : Migration
    {
        public override void Up() => Execute.Sql("UPDATE invoice SET amount_due = total WHERE amount_due IS NULL");

        public override void Down()
        {
        }
    }
}
