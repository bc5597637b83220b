using FluentMigrator;
using ReleaseKit.Migrations;

namespace ProServ.Billing.Migrations;

// Three releases of the billing schema, expand / backfill / contract:
//   2026.11.1  BaseTables                  (Expand)    projects, time_entries, invoices with the legacy external_ref column
//   2026.12.1  AddErpDocumentNo            (Expand)    invoices.erp_document_no, nullable: 2026.11.1 keeps working
//              BackfillErpDocumentNo       (Backfill)  copies external_ref into erp_document_no, batched and resumable
//   2027.1.1   DropExternalRef             (Contract)  drops external_ref: only once no 2026.11.x/2026.12.x instance is live

/// <summary>Release 2026.11.1: the base tables.</summary>
[Migration(202611010001, "Base tables: projects, time entries, invoices")]
[MigrationPhase(Phase.Expand)]
public sealed class BaseTables : Migration
{
    /// <inheritdoc />
    public override void Up()
    {
        Create.Table("projects")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("tenant_id").AsString(64).NotNullable()
            .WithColumn("name").AsString(200).NotNullable()
            .WithColumn("hourly_rate_cents").AsInt64().NotNullable()
            .WithColumn("currency").AsString(3).NotNullable();
        Create.Table("time_entries")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("tenant_id").AsString(64).NotNullable()
            .WithColumn("project_id").AsInt64().NotNullable()
            .WithColumn("consultant").AsString(100).NotNullable()
            .WithColumn("minutes").AsInt32().NotNullable()
            .WithColumn("work_date").AsString(10).NotNullable();
        Create.Table("invoices")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("tenant_id").AsString(64).NotNullable()
            .WithColumn("number").AsString(64).NotNullable()
            .WithColumn("time_entry_id").AsInt64().NotNullable()
            .WithColumn("amount_cents").AsInt64().NotNullable()
            .WithColumn("currency").AsString(3).NotNullable()
            .WithColumn("status").AsString(20).NotNullable()
            .WithColumn("approved_by").AsString(100).Nullable()
            .WithColumn("external_ref").AsString(64).Nullable();
        Create.Index("ix_invoices_tenant").OnTable("invoices").OnColumn("tenant_id").Ascending();
    }

    /// <inheritdoc />
    public override void Down()
    {
        Delete.Table("invoices");
        Delete.Table("time_entries");
        Delete.Table("projects");
    }
}

/// <summary>Release 2026.12.1 (Expand): the ERP's document number gets its own column; 2026.11.1 does not read it.</summary>
[Migration(202612010001, "invoices.erp_document_no (nullable)")]
[MigrationPhase(Phase.Expand)]
public sealed class AddErpDocumentNo : Migration
{
    /// <inheritdoc />
    public override void Up() => Alter.Table("invoices").AddColumn("erp_document_no").AsString(64).Nullable();

    /// <inheritdoc />
    public override void Down() => Delete.Column("erp_document_no").FromTable("invoices");
}

/// <summary>Release 2026.12.1 (Backfill): copies the legacy reference into the new column, in batches of 500 ids.</summary>
[Migration(202612010002, "Backfill invoices.erp_document_no from external_ref")]
[MigrationPhase(Phase.Backfill)]
public sealed class BackfillErpDocumentNo : Migration, IBatchedBackfill
{
    /// <inheritdoc />
    public BackfillDefinition Backfill { get; } = new(
        "invoices-erp-document-no",
        "invoices",
        "id",
        batchSize: 500,
        (batch, ct) => batch.ExecuteAsync(
            "UPDATE invoices SET erp_document_no = external_ref WHERE id > @from AND id <= @to AND erp_document_no IS NULL AND external_ref IS NOT NULL",
            ct));

    /// <inheritdoc />
    public override void Up()
    {
        // The rows are copied by the batched backfill above (FleetMigrator runs it before recording this version).
    }

    /// <inheritdoc />
    public override void Down()
    {
        // Data only: the Expand's Down removes the column.
    }
}

/// <summary>Release 2027.1.1 (Contract): drops the legacy column that 2026.11.1 and 2026.12.1 still read.</summary>
[Migration(202701010001, "Drop invoices.external_ref")]
[MigrationPhase(Phase.Contract, Completes = 202612010001)]
public sealed class DropExternalRef : Migration
{
    /// <inheritdoc />
    public override void Up() => Delete.Column("external_ref").FromTable("invoices");

    /// <inheritdoc />
    public override void Down() => Alter.Table("invoices").AddColumn("external_ref").AsString(64).Nullable();
}
