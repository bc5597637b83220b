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

// Out of order: a hotfix branch applied 3 (and 4) before 2 reached the database, so 2 is pending below the highest applied
// version. The previous build has no invoice.note; the current one has it.
namespace RehearsalSamples.OutOfOrder
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
    public sealed class AddNote : Migration
    {
        public override void Up() => Alter.Table("invoice").AddColumn("note").AsString(200).Nullable();

        public override void Down() => Delete.Column("note").FromTable("invoice");
    }

    [Migration(3)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateAudit : Migration
    {
        public override void Up() => Create.Table("audit").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("audit");
    }

    [Migration(4)]
    [MigrationPhase(Phase.Expand)]
    public sealed class CreateReminder : Migration
    {
        public override void Up() => Create.Table("reminder").WithColumn("id").AsInt32().PrimaryKey();

        public override void Down() => Delete.Table("reminder");
    }
}
