using System.Reflection;
using FluentMigrator;
using FluentMigrator.Expressions;
using FluentMigrator.Infrastructure;
using FluentMigrator.Model;
using FluentMigrator.Runner.Generators;
using FluentMigrator.Runner.Processors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations;

/// <summary>
/// Reads the expressions each migration produces (Up and Down) through FluentMigrator's connectionless processor, without a
/// database, and reports what is unsafe for the migration's phase.
/// </summary>
public static class MigrationLint
{
    private const string PostgresConcurrentlyFeature = "PostgresConcurrently";

    /// <summary>Lints the migrations of an assembly.</summary>
    /// <param name="assembly">The assembly holding the migrations.</param>
    /// <param name="dialect">The database the migrations will run on (IfDatabase branches and PostgreSQL locking rules depend on it).</param>
    /// <param name="namespaceFilter">Only migrations in this namespace or below it.</param>
    public static MigrationLintReport Lint(Assembly assembly, SqlDialect dialect = SqlDialect.PostgreSql, string? namespaceFilter = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return Lint(MigrationCatalog.FromAssembly(assembly, namespaceFilter), dialect);
    }

    /// <summary>Lints the migrations of a catalog.</summary>
    /// <param name="catalog">The migrations.</param>
    /// <param name="dialect">The database the migrations will run on.</param>
    /// <param name="services">Services for migrations whose constructors take dependencies; <see langword="null"/> for none.</param>
    public static MigrationLintReport Lint(MigrationCatalog catalog, SqlDialect dialect = SqlDialect.PostgreSql, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!Enum.IsDefined(dialect))
        {
            throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect; allowed values are Sqlite and PostgreSql.");
        }

        services ??= EmptyServices.Instance;
        using var processor = CreateProcessor(dialect);
        var findings = new List<MigrationLintViolation>();
        foreach (var migration in catalog.Migrations)
        {
            LintOne(catalog, migration, dialect, processor, services, findings);
        }

        return new MigrationLintReport(findings, catalog.Migrations.Count, dialect);
    }

    /// <summary>Throws <see cref="MigrationLintException"/>, listing every violation, when the assembly's migrations are not clean.</summary>
    /// <param name="assembly">The assembly holding the migrations.</param>
    /// <param name="dialect">The database the migrations will run on.</param>
    /// <param name="namespaceFilter">Only migrations in this namespace or below it.</param>
    public static void AssertClean(Assembly assembly, SqlDialect dialect = SqlDialect.PostgreSql, string? namespaceFilter = null)
    {
        var report = Lint(assembly, dialect, namespaceFilter);
        if (!report.IsClean)
        {
            throw new MigrationLintException(report);
        }
    }

    internal static IReadOnlyList<IMigrationExpression> CollectUp(MigrationDescriptor migration, SqlDialect dialect)
    {
        using var processor = CreateProcessor(dialect);
        return Collect(migration, processor, EmptyServices.Instance, MigrationDirection.Up);
    }

    private static void LintOne(MigrationCatalog catalog, MigrationDescriptor migration, SqlDialect dialect, ConnectionlessProcessor processor, IServiceProvider services, List<MigrationLintViolation> findings)
    {
        var local = new List<(string Code, MigrationDirection Direction, string Message, string? Table, string? Column)>();
        CheckPhaseData(catalog, migration, local);

        IReadOnlyList<IMigrationExpression>? up = null;
        try
        {
            up = Collect(migration, processor, services, MigrationDirection.Up);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            local.Add((LintRules.MigrationThrew, MigrationDirection.Up, $"Up threw {ex.GetType().Name}: {ex.Message}", null, null));
        }

        if (up is not null)
        {
            CheckExpressions(migration, dialect, MigrationDirection.Up, up, local);
        }

        IReadOnlyList<IMigrationExpression>? down = null;
        try
        {
            down = Collect(migration, processor, services, MigrationDirection.Down);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or NotImplementedException)
        {
            if (migration.ForwardFix is null)
            {
                local.Add((LintRules.IrreversibleDown, MigrationDirection.Down, $"Down cannot be produced: {ex.Message}", null, null));
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            local.Add((LintRules.MigrationThrew, MigrationDirection.Down, $"Down threw {ex.GetType().Name}: {ex.Message}", null, null));
        }

        if (down is not null)
        {
            if (down.Count == 0 && up is { Count: > 0 } && migration.Phase != Phase.Backfill && up.Any(IsSchemaChange) && migration.ForwardFix is null)
            {
                local.Add((LintRules.EmptyDown, MigrationDirection.Down, "Down produces no expressions, so a rollback would leave the schema of Up in place.", null, null));
            }

            CheckExpressions(migration, dialect, MigrationDirection.Down, down, local);
        }

        foreach (var (code, reason) in migration.Suppressions)
        {
            if (!LintRules.All.ContainsKey(code) || string.IsNullOrWhiteSpace(reason))
            {
                local.Add((LintRules.InvalidSuppression, MigrationDirection.Up, $"The suppression of '{code}' {(LintRules.All.ContainsKey(code) ? "gives no reason" : "names no known rule")}.", null, null));
            }
        }

        foreach (var (code, direction, message, table, column) in local)
        {
            var suppressed = code != LintRules.InvalidSuppression && migration.Suppressions.TryGetValue(code, out var reason) && !string.IsNullOrWhiteSpace(reason) ? reason : null;
            findings.Add(new MigrationLintViolation(code, migration, direction, message, table, column, suppressed));
        }
    }

    private static void CheckPhaseData(MigrationCatalog catalog, MigrationDescriptor migration, List<(string, MigrationDirection, string, string?, string?)> local)
    {
        if (migration.Phase is null)
        {
            local.Add((LintRules.MissingPhase, MigrationDirection.Up, "The migration declares no phase (Expand, Backfill or Contract).", null, null));
            return;
        }

        if (migration.Completes is { } completes)
        {
            if (migration.Phase != Phase.Contract)
            {
                local.Add((LintRules.InvalidPhaseData, MigrationDirection.Up, $"Only a Contract completes an Expand, but this {migration.Phase} names {completes}.", null, null));
            }
            else if (catalog.Find(completes) is not { } expand)
            {
                local.Add((LintRules.InvalidPhaseData, MigrationDirection.Up, $"The Contract completes migration {completes}, which is not in the assembly.", null, null));
            }
            else if (expand.Phase != Phase.Expand)
            {
                local.Add((LintRules.InvalidPhaseData, MigrationDirection.Up, $"The Contract completes migration {completes}, which is {expand.Phase?.ToString() ?? "without a phase"}, not an Expand.", null, null));
            }
            else if (completes >= migration.Version)
            {
                local.Add((LintRules.InvalidPhaseData, MigrationDirection.Up, $"The Contract completes migration {completes}, which does not come before it.", null, null));
            }
        }
    }

    private static void CheckExpressions(MigrationDescriptor migration, SqlDialect dialect, MigrationDirection direction, IReadOnlyList<IMigrationExpression> expressions, List<(string, MigrationDirection, string, string?, string?)> local)
    {
        var phase = migration.Phase;
        var outsideContract = direction == MigrationDirection.Up && phase is not Phase.Contract and not null;
        var createdTables = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var rawSqlReported = false;
        foreach (var expression in expressions)
        {
            if (expression is CreateTableExpression created)
            {
                createdTables.Add(created.TableName);
            }

            if (direction == MigrationDirection.Up && phase == Phase.Backfill && IsSchemaChange(expression))
            {
                local.Add((LintRules.SchemaChangeInBackfill, direction, $"A Backfill is data only, but it contains {Describe(expression)}.", TableOf(expression), null));
            }

            if (IsRawSql(expression))
            {
                if (migration.RawSqlSignOff is null or { Length: 0 } && !rawSqlReported)
                {
                    rawSqlReported = true;
                    local.Add((LintRules.RawSqlWithoutSignOff, direction, $"{Describe(expression)} cannot be classified; it needs [RawSqlSignOff(reason)].", null, null));
                }

                continue;
            }

            if (outsideContract)
            {
                CheckOutsideContract(expression, phase!.Value, createdTables, local);
            }

            if (dialect == SqlDialect.PostgreSql && expression is CreateIndexExpression index)
            {
                var concurrently = IsConcurrently(index);
                if (concurrently && migration.TransactionBehavior == TransactionBehavior.Default)
                {
                    local.Add((LintRules.ConcurrentlyInTransaction, direction, $"Index {index.Index.Name} is created CONCURRENTLY, which PostgreSQL refuses inside the migration's transaction.", index.Index.TableName, null));
                }
                else if (!concurrently && direction == MigrationDirection.Up && phase == Phase.Expand && !createdTables.Contains(index.Index.TableName))
                {
                    local.Add((LintRules.IndexWithoutConcurrently, direction, $"Index {index.Index.Name} on existing table {index.Index.TableName} is created without CONCURRENTLY, which blocks writes to the table while it builds.", index.Index.TableName, string.Join(",", index.Index.Columns.Select(c => c.Name))));
                }
            }
        }
    }

    private static void CheckOutsideContract(IMigrationExpression expression, Phase phase, HashSet<string> createdTables, List<(string, MigrationDirection, string, string?, string?)> local)
    {
        const MigrationDirection up = MigrationDirection.Up;
        var where = $"in a{(phase == Phase.Expand ? "n" : string.Empty)} {phase}";
        switch (expression)
        {
            case DeleteTableExpression e:
                local.Add((LintRules.DropTable, up, $"Drops table {e.TableName} {where}; the previous build still reads it.", e.TableName, null));
                break;
            case DeleteColumnExpression e:
                foreach (var column in e.ColumnNames)
                {
                    local.Add((LintRules.DropColumn, up, $"Drops column {e.TableName}.{column} {where}; the previous build still reads it.", e.TableName, column));
                }

                break;
            case DeleteSchemaExpression e:
                local.Add((LintRules.DropSchema, up, $"Drops schema {e.SchemaName} {where}.", null, null));
                break;
            case DeleteForeignKeyExpression e:
                local.Add((LintRules.DropForeignKey, up, $"Drops foreign key {e.ForeignKey.Name} {where}.", e.ForeignKey.ForeignTable, null));
                break;
            case DeleteDataExpression { IsAllRows: true } e:
                local.Add((LintRules.DeleteAllRows, up, $"Deletes every row of {e.TableName} {where}.", e.TableName, null));
                break;
            case RenameColumnExpression e:
                local.Add((LintRules.RenameColumn, up, $"Renames column {e.TableName}.{e.OldName} to {e.NewName} {where}; the previous build still reads {e.OldName}.", e.TableName, e.OldName));
                break;
            case RenameTableExpression e:
                local.Add((LintRules.RenameTable, up, $"Renames table {e.OldName} to {e.NewName} {where}; the previous build still reads {e.OldName}.", e.OldName, null));
                break;
            case AlterColumnExpression e when e.Column.IsNullable == true:
                local.Add((LintRules.AlterColumnType, up, $"Alters column {e.TableName}.{e.Column.Name} (type or definition) {where}; the previous build reads and writes the old definition.", e.TableName, e.Column.Name));
                break;
            case AlterColumnExpression e:
                local.Add((LintRules.SetNotNull, up, $"Alters column {e.TableName}.{e.Column.Name} to NOT NULL {where}; the previous build may still write nulls.", e.TableName, e.Column.Name));
                break;
            case CreateColumnExpression e when e.Column.IsNullable != true && e.Column.DefaultValue is ColumnDefinition.UndefinedDefaultValue && !e.Column.IsIdentity && !createdTables.Contains(e.TableName):
                local.Add((LintRules.NotNullColumnWithoutDefault, up, $"Adds NOT NULL column {e.TableName}.{e.Column.Name} without a default {where}; the previous build's inserts do not set it.", e.TableName, e.Column.Name));
                break;
            case CreateIndexExpression { Index.IsUnique: true } e when !createdTables.Contains(e.Index.TableName):
                local.Add((LintRules.UniqueIndex, up, $"Creates unique index {e.Index.Name} on {e.Index.TableName} {where}; the previous build may insert duplicates.", e.Index.TableName, string.Join(",", e.Index.Columns.Select(c => c.Name))));
                break;
            case CreateConstraintExpression e when e.Constraint.IsUniqueConstraint && !createdTables.Contains(e.Constraint.TableName):
                local.Add((LintRules.UniqueConstraint, up, $"Creates unique constraint {e.Constraint.ConstraintName} on {e.Constraint.TableName} {where}; the previous build may insert duplicates.", e.Constraint.TableName, string.Join(",", e.Constraint.Columns)));
                break;
        }
    }

    private static bool IsConcurrently(CreateIndexExpression index) =>
        index.Index.AdditionalFeatures.TryGetValue(PostgresConcurrentlyFeature, out var feature)
        && feature?.GetType().GetProperty("IsConcurrently")?.GetValue(feature) is true;

    private static bool IsRawSql(IMigrationExpression expression) =>
        expression is ExecuteSqlStatementExpression or ExecuteSqlScriptExpressionBase or PerformDBOperationExpression;

    internal static bool IsSchemaChange(IMigrationExpression expression) =>
        expression is not (InsertDataExpression or UpdateDataExpression or DeleteDataExpression or ExecuteSqlStatementExpression or ExecuteSqlScriptExpressionBase or PerformDBOperationExpression);

    internal static string Describe(IMigrationExpression expression) => expression switch
    {
        ExecuteSqlStatementExpression => "Execute.Sql",
        ExecuteSqlScriptExpressionBase => "an SQL script",
        PerformDBOperationExpression => "PerformDBOperation",
        _ => expression.GetType().Name.Replace("Expression", string.Empty, StringComparison.Ordinal),
    };

    internal static string? TableOf(IMigrationExpression expression) => expression switch
    {
        CreateTableExpression e => e.TableName,
        DeleteTableExpression e => e.TableName,
        CreateColumnExpression e => e.TableName,
        DeleteColumnExpression e => e.TableName,
        AlterColumnExpression e => e.TableName,
        RenameColumnExpression e => e.TableName,
        RenameTableExpression e => e.OldName,
        CreateIndexExpression e => e.Index.TableName,
        DeleteIndexExpression e => e.Index.TableName,
        InsertDataExpression e => e.TableName,
        UpdateDataExpression e => e.TableName,
        DeleteDataExpression e => e.TableName,
        _ => null,
    };

    private static IReadOnlyList<IMigrationExpression> Collect(MigrationDescriptor migration, ConnectionlessProcessor processor, IServiceProvider services, MigrationDirection direction)
    {
        var instance = (IMigration)ActivatorUtilities.CreateInstance(services, migration.Type);
        var context = new MigrationContext(processor, services, string.Empty);
        if (direction == MigrationDirection.Up)
        {
            instance.GetUpExpressions(context);
        }
        else
        {
            instance.GetDownExpressions(context);
        }

        return [.. context.Expressions];
    }

    private static ConnectionlessProcessor CreateProcessor(SqlDialect dialect)
    {
        // The processor only names the database type here (IfDatabase branches read it); nothing is generated or executed.
        IReadOnlyCollection<string> ids = dialect == SqlDialect.PostgreSql
            ? [ProcessorIdConstants.Postgres, ProcessorIdConstants.PostgreSQL]
            : [ProcessorIdConstants.SQLite];
        return new ConnectionlessProcessor(NoGenerator.Instance, NullLogger.Instance, new ProcessorOptionsSnapshot(), ids);
    }

    private sealed class NoGenerator : IGeneratorAccessor
    {
        public static readonly NoGenerator Instance = new();

        public IMigrationGenerator Generator => null!;
    }

    private sealed class ProcessorOptionsSnapshot : IOptionsSnapshot<ProcessorOptions>
    {
        public ProcessorOptions Value { get; } = new() { PreviewOnly = true };

        public ProcessorOptions Get(string? name) => Value;
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
