using FluentMigrator;
using ReleaseKit.Migrations;

#pragma warning disable CA1812, CA1852

// releasekit rehearse: invoice.total -> invoice.amount_due. Expand only: a clean rehearsal. With the Contract: the previous
// build reads invoice.total, which the Contract's Down restores empty.
namespace RehearsalSamples.ExpandOnly
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateInvoice : Migration
    {
        public override void Up() => Create.Table("invoice").WithColumn("id").AsInt32().PrimaryKey().WithColumn("total").AsDecimal(12, 2).Nullable();

        public override void Down() => Delete.Table("invoice");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddAmountDue : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("amount_due").AsDecimal(12, 2).Nullable();

        public override void Down() => Delete.Column("amount_due").FromTable("invoice");
    }
}

namespace RehearsalSamples.WithContract
{
    [Migration(1)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateInvoice : Migration
    {
        public override void Up() => Create.Table("invoice").WithColumn("id").AsInt32().PrimaryKey().WithColumn("total").AsDecimal(12, 2).Nullable();

        public override void Down() => Delete.Table("invoice");
    }

    [Migration(2)]
    [MigrationPhase(Phase.Expand)]
    public sealed class AddAmountDue : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("amount_due").AsDecimal(12, 2).Nullable();

        public override void Down() => Delete.Column("amount_due").FromTable("invoice");
    }

    [Migration(3)]
    [MigrationPhase(Phase.Contract, Completes = 2)]
    public sealed class DropTotal : Migration
    {
        public override void Up() => Delete.Column("total").FromTable("invoice");

        public override void Down() => Alter.Table("invoice").AddColumn("total").AsDecimal(12, 2).Nullable();
    }
}
