using FluentMigrator;
using ReleaseKit.Migrations;

#pragma warning disable CA1812, CA1852

// The invoice.total -> invoice.amount_due rename over three releases; every migration logs itself in apply_log so a test
// can count how many times each one ran.
namespace RunnerSamples.Invoice
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateInvoice : Migration
    {
        public override void Up()
        {
            Create.Table("apply_log").WithColumn("version").AsInt64().NotNullable();
            Create.Table("invoice").WithColumn("id").AsInt32().PrimaryKey().WithColumn("total").AsDecimal(12, 2).Nullable();
            Insert.IntoTable("apply_log").Row(new { version = 1L });
        }

        public override void Down()
        {
            Delete.Table("invoice");
            Delete.Table("apply_log");
        }
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddAmountDue : Migration
    {
        public override void Up()
        {
            Alter.Table("invoice").AddColumn("amount_due").AsDecimal(12, 2).Nullable();
            Insert.IntoTable("apply_log").Row(new { version = 2L });
        }

        public override void Down() => Delete.Column("amount_due").FromTable("invoice");
    }

    [Migration(3)]
    [MigrationPhase(Phase.Backfill)]
    [RawSqlSignOff("Copies invoice.total into amount_due where it is not set yet; data only.")]
    public sealed class CopyTotalToAmountDue : Migration
    {
        public override void Up()
        {
            Execute.Sql("UPDATE invoice SET amount_due = total WHERE amount_due IS NULL");
            Insert.IntoTable("apply_log").Row(new { version = 3L });
        }

        public override void Down()
        {
        }
    }

    [Migration(4)]
    [MigrationPhase(Phase.Contract, Completes = 2)]
    public sealed class DropTotal : Migration
    {
        public override void Up()
        {
            Delete.Column("total").FromTable("invoice");
            Insert.IntoTable("apply_log").Row(new { version = 4L });
        }

        public override void Down() => Alter.Table("invoice").AddColumn("total").AsDecimal(12, 2).Nullable();
    }
}

namespace RunnerSamples.Failing
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateCustomer : Migration
    {
        public override void Up() => Create.Table("customer").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("customer");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    [RawSqlSignOff("Fails on purpose in tests.")]
    public sealed class FailsHalfway : Migration
    {
        public override void Up()
        {
            Create.Table("supplier").WithColumn("id").AsInt32().PrimaryKey();
            Execute.Sql("INSERT INTO no_such_table VALUES (1)");
        }

        public override void Down() => Delete.Table("supplier");
    }
}

// A Backfill migration whose data change runs in batches through ReleaseKit's backfill runner.
namespace RunnerSamples.Batched
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateInvoice : Migration
    {
        public override void Up()
        {
            Create.Table("invoice").WithColumn("id").AsInt64().PrimaryKey().WithColumn("total").AsInt32().NotNullable().WithColumn("amount_due").AsInt32().Nullable();
            for (var id = 1; id <= 5; id++)
            {
                Insert.IntoTable("invoice").Row(new { id = (long)id * 10, total = id * 100 });
            }
        }

        public override void Down() => Delete.Table("invoice");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Backfill)]
    public sealed class CopyTotalToAmountDue : Migration, IBatchedBackfill
    {
        public BackfillDefinition Backfill { get; } = new(
            "invoice-amount-due",
            "invoice",
            "id",
            2,
            (batch, ct) => batch.ExecuteAsync("UPDATE invoice SET amount_due = total WHERE id > @from AND id <= @to", ct));

        public override void Up()
        {
        }

        public override void Down()
        {
        }
    }
}

// Rollback rehearsal: 2 rolls back cleanly, 3's Down drops a table that existed before its Up.
namespace RunnerSamples.Rehearsal
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateItem : Migration
    {
        public override void Up()
        {
            Create.Table("item").WithColumn("id").AsInt32().PrimaryKey().WithColumn("name").AsString(50).Nullable();
            Insert.IntoTable("item").Row(new { id = 1, name = "a" }).Row(new { id = 2, name = "b" }).Row(new { id = 3, name = "c" });
        }

        public override void Down() => Delete.Table("item");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddNote : Migration
    {
        public override void Up() => Alter.Table("item").AddColumn("note").AsString(100).Nullable();

        public override void Down() => Delete.Column("note").FromTable("item");
    }

    [Migration(3)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddTagWithLossyDown : Migration
    {
        public override void Up() => Create.Table("tag").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down()
        {
            Delete.Table("tag");
            Delete.Table("item");
        }
    }
}

// Rollback rehearsal: 2's Down fails.
namespace RunnerSamples.BrokenDown
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateThing : Migration
    {
        public override void Up() => Create.Table("thing").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("thing");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    [RawSqlSignOff("Fails on purpose in tests.")]
    public sealed class DownFails : Migration
    {
        public override void Up() => Create.Table("other").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Execute.Sql("DROP TABLE no_such_table");
    }

    [Migration(3)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AfterTheBrokenOne : Migration
    {
        public override void Up() => Create.Table("third").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("third");
    }
}

// A slow migration on PostgreSQL, for a connection lost mid-apply.
namespace RunnerSamples.Slow
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateFirst : Migration
    {
        public override void Up() => Create.Table("first").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("first");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    [RawSqlSignOff("Sleeps so a test can terminate the migrator's session mid-apply.")]
    public sealed class SlowAfterCreate : Migration
    {
        public override void Up()
        {
            Create.Table("second").WithColumn("id").AsInt32().PrimaryKey();
            Execute.Sql("SELECT pg_sleep(60)");
        }

        public override void Down() => Delete.Table("second");
    }
}
