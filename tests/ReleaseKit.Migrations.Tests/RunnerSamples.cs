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
