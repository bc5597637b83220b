namespace ReleaseKit.Migrations;

/// <summary>The lint rule codes, each with what it flags and the safe alternative.</summary>
public static class LintRules
{
    /// <summary>A migration declares no phase.</summary>
    public const string MissingPhase = "RK-M001";

    /// <summary>Phase data is inconsistent: a Contract completes an unknown or non-Expand migration, or a non-Contract names one.</summary>
    public const string InvalidPhaseData = "RK-M002";

    /// <summary>A Backfill changes the schema.</summary>
    public const string SchemaChangeInBackfill = "RK-M003";

    /// <summary>A suppression without a reason, or of an unknown code.</summary>
    public const string InvalidSuppression = "RK-M004";

    /// <summary>Drop table outside Contract.</summary>
    public const string DropTable = "RK-M011";

    /// <summary>Drop column outside Contract.</summary>
    public const string DropColumn = "RK-M012";

    /// <summary>Drop schema outside Contract.</summary>
    public const string DropSchema = "RK-M013";

    /// <summary>Drop foreign key outside Contract.</summary>
    public const string DropForeignKey = "RK-M014";

    /// <summary>Delete all rows outside Contract.</summary>
    public const string DeleteAllRows = "RK-M015";

    /// <summary>Rename column outside Contract.</summary>
    public const string RenameColumn = "RK-M021";

    /// <summary>Rename table outside Contract.</summary>
    public const string RenameTable = "RK-M022";

    /// <summary>Change a column's type outside Contract.</summary>
    public const string AlterColumnType = "RK-M023";

    /// <summary>Add a NOT NULL column without a default outside Contract.</summary>
    public const string NotNullColumnWithoutDefault = "RK-M024";

    /// <summary>Set NOT NULL on an existing column outside Contract.</summary>
    public const string SetNotNull = "RK-M025";

    /// <summary>Add a unique index outside Contract.</summary>
    public const string UniqueIndex = "RK-M026";

    /// <summary>Add a unique constraint outside Contract.</summary>
    public const string UniqueConstraint = "RK-M027";

    /// <summary>PostgreSQL: an index on an existing table created without CONCURRENTLY in an Expand.</summary>
    public const string IndexWithoutConcurrently = "RK-M031";

    /// <summary>PostgreSQL: CREATE INDEX CONCURRENTLY inside a transaction.</summary>
    public const string ConcurrentlyInTransaction = "RK-M032";

    /// <summary>Raw SQL (Execute.Sql, scripts, PerformDBOperation) without a reasoned sign-off.</summary>
    public const string RawSqlWithoutSignOff = "RK-M040";

    /// <summary>A Down that cannot be produced, without a forward-fix.</summary>
    public const string IrreversibleDown = "RK-M050";

    /// <summary>An empty Down for a migration whose Up changes the schema, without a forward-fix.</summary>
    public const string EmptyDown = "RK-M051";

    /// <summary>The migration threw while producing its expressions, so it cannot be checked.</summary>
    public const string MigrationThrew = "RK-M060";

    internal static readonly IReadOnlyDictionary<string, (string Title, string SafeAlternative)> All = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase)
    {
        [MissingPhase] = ("migration declares no phase", "Add [MigrationPhase(Phase.Expand|Backfill|Contract)] to the migration class."),
        [InvalidPhaseData] = ("inconsistent phase data", "Completes must name an Expand migration of the same assembly, and only a Contract completes one."),
        [SchemaChangeInBackfill] = ("schema change in a Backfill", "Move the schema change into an Expand (or a Contract) and keep the Backfill to data (Insert/Update/Delete)."),
        [InvalidSuppression] = ("invalid suppression", "Suppress a known code and give the reason: [SuppressMigrationLint(\"RK-M012\", \"why it is safe\")]."),
        [DropTable] = ("drop table outside Contract", "Stop reading and writing the table in one release, then drop it in a Contract that ships after every build that used it is gone."),
        [DropColumn] = ("drop column outside Contract", "Stop reading the column in one release (Expand the replacement, Backfill), then drop it in a Contract that completes the Expand."),
        [DropSchema] = ("drop schema outside Contract", "Drop the schema in a Contract once no live build uses it."),
        [DropForeignKey] = ("drop foreign key outside Contract", "Drop the foreign key in a Contract once no live build relies on it."),
        [DeleteAllRows] = ("delete all rows outside Contract", "Delete in batches in a Backfill with a WHERE clause, or empty the table in a Contract."),
        [RenameColumn] = ("rename column outside Contract", "Expand: add the new column; Backfill: copy the data; the app writes both; Contract: drop the old column."),
        [RenameTable] = ("rename table outside Contract", "Expand: create the new table (or a view with the new name); Backfill: copy; Contract: drop the old table."),
        [AlterColumnType] = ("change column type outside Contract", "Expand: add a column of the new type; Backfill: convert the data; Contract: drop the old column."),
        [NotNullColumnWithoutDefault] = ("NOT NULL column without default outside Contract", "Add the column nullable or with a default in the Expand, Backfill it, and set NOT NULL in a Contract."),
        [SetNotNull] = ("set NOT NULL on an existing column outside Contract", "Backfill the nulls, then set NOT NULL in a Contract once every live build writes the column."),
        [UniqueIndex] = ("unique index outside Contract", "Create a non-unique index in the Expand, remove duplicates in a Backfill, and make it unique in a Contract."),
        [UniqueConstraint] = ("unique constraint outside Contract", "Remove duplicates in a Backfill and add the unique constraint in a Contract."),
        [IndexWithoutConcurrently] = ("index without CONCURRENTLY in an Expand (PostgreSQL)", "Create the index with .AsConcurrently() (FluentMigrator.Extensions.Postgres) in a migration with TransactionBehavior.None."),
        [ConcurrentlyInTransaction] = ("CREATE INDEX CONCURRENTLY inside a transaction (PostgreSQL)", "Declare the migration [Migration(version, TransactionBehavior.None)] and keep the concurrent index alone in it."),
        [RawSqlWithoutSignOff] = ("raw SQL without sign-off", "Use FluentMigrator expressions, or add [RawSqlSignOff(\"why this SQL is safe in this phase\")] after review."),
        [IrreversibleDown] = ("Down cannot be produced", "Write an explicit Down, or mark the migration [ForwardFix(\"the documented fix\")]."),
        [EmptyDown] = ("Down is empty while Up changes the schema", "Write the Down that undoes the Up, or mark the migration [ForwardFix(\"the documented fix\")]."),
        [MigrationThrew] = ("migration threw while producing its expressions", "Make Up/Down produce expressions without a database (no Schema.Table(...).Exists() checks), or suppress with a reason."),
    };
}
