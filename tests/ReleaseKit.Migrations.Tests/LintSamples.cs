using FluentMigrator;
using FluentMigrator.Postgres;
using ReleaseKit.Migrations;

#pragma warning disable CA1812, CA1852

// Each namespace is one "assembly" of migrations for a lint test: Bad triggers the rule, Good is the safe alternative.
namespace LintSamples.MissingPhase.Bad
{
    [Migration(1)]
    public sealed class NoPhase : Migration
    {
        public override void Up() => Create.Table("a").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("a");
    }
}

namespace LintSamples.MissingPhase.Good
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class WithPhase : Migration
    {
        public override void Up() => Create.Table("a").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("a");
    }
}

namespace LintSamples.DropColumn.Bad
{
    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    public sealed class DropsColumnInExpand : Migration
    {
        public override void Up() => Delete.Column("total").FromTable("invoice");

        public override void Down() => Alter.Table("invoice").AddColumn("total").AsDecimal().Nullable();
    }
}

namespace LintSamples.DropColumn.Good
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddAmountDue : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("amount_due").AsDecimal().Nullable();

        public override void Down() => Delete.Column("amount_due").FromTable("invoice");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Contract, Completes = 1)]
    public sealed class DropsColumnInContract : Migration
    {
        public override void Up() => Delete.Column("total").FromTable("invoice");

        public override void Down() => Alter.Table("invoice").AddColumn("total").AsDecimal().Nullable();
    }
}

namespace LintSamples.DropTable.Bad
{
    [Migration(3)]
    [MigrationPhase(Phase.Expand)]
    public sealed class DropsTable : Migration
    {
        public override void Up() => Delete.Table("legacy");

        public override void Down() => Create.Table("legacy").WithColumn("id").AsInt32().PrimaryKey();
    }
}

namespace LintSamples.DeleteAllRows.Bad
{
    [Migration(4)]
    [MigrationPhase(Phase.Backfill)]
    public sealed class DeletesEverything : Migration
    {
        public override void Up() => Delete.FromTable("audit").AllRows();

        public override void Down()
        {
        }
    }
}

namespace LintSamples.DeleteAllRows.Good
{
    [Migration(4)]
    [MigrationPhase(Phase.Backfill)]
    public sealed class DeletesSome : Migration
    {
        public override void Up() => Delete.FromTable("audit").Row(new { id = 1 });

        public override void Down()
        {
        }
    }
}

namespace LintSamples.RenameColumn.Bad
{
    [Migration(5)]
    [MigrationPhase(Phase.Expand)]
    public sealed class RenamesColumn : Migration
    {
        public override void Up() => Rename.Column("total").OnTable("invoice").To("amount_due");

        public override void Down() => Rename.Column("amount_due").OnTable("invoice").To("total");
    }
}

namespace LintSamples.NotNullWithoutDefault.Bad
{
    [Migration(6)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddsNotNull : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("currency").AsString(3).NotNullable();

        public override void Down() => Delete.Column("currency").FromTable("invoice");
    }
}

namespace LintSamples.NotNullWithoutDefault.Good
{
    [Migration(6)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddsNotNullWithDefault : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("currency").AsString(3).NotNullable().WithDefaultValue("EUR");

        public override void Down() => Delete.Column("currency").FromTable("invoice");
    }
}

namespace LintSamples.AlterColumn.Bad
{
    [Migration(7)]
    [MigrationPhase(Phase.Expand)]
    public sealed class ChangesType : Migration
    {
        public override void Up() => Alter.Column("total").OnTable("invoice").AsDecimal(19, 4).Nullable();

        public override void Down() => Alter.Column("total").OnTable("invoice").AsDecimal(10, 2).Nullable();
    }

    [Migration(8)]
    [MigrationPhase(Phase.Expand)]
    public sealed class SetsNotNull : Migration
    {
        public override void Up() => Alter.Column("total").OnTable("invoice").AsDecimal(10, 2).NotNullable();

        public override void Down() => Alter.Column("total").OnTable("invoice").AsDecimal(10, 2).Nullable();
    }
}

namespace LintSamples.UniqueIndex.Bad
{
    [Migration(9, TransactionBehavior.None)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddsUniqueIndex : Migration
    {
        public override void Up() => Create.Index("ix_invoice_number").OnTable("invoice").OnColumn("number").Unique().WithOptions().AsConcurrently();

        public override void Down() => Delete.Index("ix_invoice_number").OnTable("invoice");
    }
}

namespace LintSamples.Index.Locking
{
    [Migration(10)]
    [MigrationPhase(Phase.Expand)]
    public sealed class IndexWithoutConcurrently : Migration
    {
        public override void Up() => Create.Index("ix_invoice_customer").OnTable("invoice").OnColumn("customer_id");

        public override void Down() => Delete.Index("ix_invoice_customer").OnTable("invoice");
    }
}

namespace LintSamples.Index.ConcurrentlyInTransaction
{
    [Migration(11)]
    [MigrationPhase(Phase.Expand)]
    public sealed class ConcurrentlyInTransaction : Migration
    {
        public override void Up() => Create.Index("ix_invoice_customer").OnTable("invoice").OnColumn("customer_id").Ascending().WithOptions().AsConcurrently();

        public override void Down() => Delete.Index("ix_invoice_customer").OnTable("invoice");
    }
}

namespace LintSamples.Index.Good
{
    [Migration(11, TransactionBehavior.None)]
    [MigrationPhase(Phase.Expand)]
    public sealed class ConcurrentlyWithoutTransaction : Migration
    {
        public override void Up() => Create.Index("ix_invoice_customer").OnTable("invoice").OnColumn("customer_id").Ascending().WithOptions().AsConcurrently();

        public override void Down() => Delete.Index("ix_invoice_customer").OnTable("invoice");
    }

    [Migration(12)]
    [MigrationPhase(Phase.Expand)]
    public sealed class IndexOnNewTable : Migration
    {
        public override void Up()
        {
            Create.Table("payment").WithColumn("id").AsInt32().PrimaryKey().WithColumn("invoice_id").AsInt32().NotNullable();
            Create.Index("ix_payment_invoice").OnTable("payment").OnColumn("invoice_id");
        }

        public override void Down() => Delete.Table("payment");
    }
}

namespace LintSamples.RawSql.Bad
{
    [Migration(13)]
    [MigrationPhase(Phase.Backfill)]
    public sealed class RawSql : Migration
    {
        public override void Up() => Execute.Sql("UPDATE invoice SET amount_due = total");

        public override void Down()
        {
        }
    }
}

namespace LintSamples.RawSql.Good
{
    [Migration(13)]
    [MigrationPhase(Phase.Backfill)]
    [RawSqlSignOff("Copies total into amount_due; data only, reviewed by the billing team.")]
    public sealed class SignedOffRawSql : Migration
    {
        public override void Up() => Execute.Sql("UPDATE invoice SET amount_due = total");

        public override void Down()
        {
        }
    }
}

namespace LintSamples.Irreversible.Bad
{
    [Migration(14)]
    [MigrationPhase(Phase.Expand)]
    public sealed class ForwardOnlyWithoutFix : ForwardOnlyMigration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("note").AsString().Nullable();
    }

    [Migration(15)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AutoReversingWithIrreversibleStep : AutoReversingMigration
    {
        public override void Up() => Alter.Column("note").OnTable("invoice").AsString(500).Nullable();
    }
}

namespace LintSamples.Irreversible.Good
{
    [Migration(14)]
    [MigrationPhase(Phase.Expand)]
    [ForwardFix("Deploy migration 16, which drops invoice.note, instead of rolling back.")]
    public sealed class ForwardOnlyWithFix : ForwardOnlyMigration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("note").AsString().Nullable();
    }

    [Migration(15)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AutoReversing : AutoReversingMigration
    {
        public override void Up() => Create.Table("tag").WithColumn("id").AsInt32().PrimaryKey();
    }
}

namespace LintSamples.Suppressed
{
    [Migration(16)]
    [MigrationPhase(Phase.Expand)]
    [SuppressMigrationLint(LintRules.DropTable, "The table was created by mistake in 15 and never read by any build.")]
    public sealed class DropsUnusedTable : Migration
    {
        public override void Up() => Delete.Table("tmp_import");

        public override void Down() => Create.Table("tmp_import").WithColumn("id").AsInt32().PrimaryKey();
    }
}

namespace LintSamples.BadPhaseData
{
    [Migration(17)]
    [MigrationPhase(Phase.Backfill)]
    public sealed class Backfill : Migration
    {
        public override void Up() => Update.Table("invoice").Set(new { amount_due = 0 }).AllRows();

        public override void Down()
        {
        }
    }

    [Migration(18)]
    [MigrationPhase(Phase.Contract, Completes = 17)]
    public sealed class CompletesABackfill : Migration
    {
        public override void Up() => Delete.Column("total").FromTable("invoice");

        public override void Down() => Alter.Table("invoice").AddColumn("total").AsDecimal().Nullable();
    }
}

namespace LintSamples.PerDialect
{
    [Migration(19)]
    [MigrationPhase(Phase.Expand)]
    public sealed class PostgresOnlyConcurrently : Migration
    {
        public override void Up()
        {
            IfDatabase(ProcessorIdConstants.Postgres).Execute.Sql("CREATE EXTENSION IF NOT EXISTS pg_trgm");
            Alter.Table("invoice").AddColumn("memo").AsString().Nullable();
        }

        public override void Down() => Delete.Column("memo").FromTable("invoice");
    }
}

namespace LintSamples.Duplicate
{
    [Migration(20)]
    [MigrationPhase(Phase.Expand)]
    public sealed class First : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("a").AsString().Nullable();

        public override void Down() => Delete.Column("a").FromTable("invoice");
    }

    [Migration(20)]
    [MigrationPhase(Phase.Expand)]
    public sealed class Second : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("b").AsString().Nullable();

        public override void Down() => Delete.Column("b").FromTable("invoice");
    }
}
