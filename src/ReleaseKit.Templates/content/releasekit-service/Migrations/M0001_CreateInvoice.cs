using FluentMigrator;
using ReleaseKit.Migrations;

namespace ReleaseKitService.Migrations;

/// <summary>Release 1.0.0: the invoice table. Expand: additive only, so the previous build keeps working during a rolling deploy.</summary>
[Migration(202601010900)]
[MigrationPhase(Phase.Expand)]
public sealed class M0001_CreateInvoice : Migration
{
    /// <inheritdoc />
    public override void Up() => Create.Table("invoice")
        .WithColumn("id").AsInt64().PrimaryKey().Identity()
        .WithColumn("tenant_id").AsString(64).NotNullable().Indexed()
        .WithColumn("amount_due").AsDecimal(12, 2).Nullable();

    /// <inheritdoc />
    public override void Down() => Delete.Table("invoice");
}
