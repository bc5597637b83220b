using System.Text;

namespace ReleaseKit.Migrations;

/// <summary>Which direction of a migration a lint finding is about.</summary>
public enum MigrationDirection
{
    /// <summary>The Up expressions.</summary>
    Up = 0,

    /// <summary>The Down expressions.</summary>
    Down = 1,
}

/// <summary>One lint finding: a rule violated by one migration, where, and the safe alternative.</summary>
public sealed class MigrationLintViolation
{
    internal MigrationLintViolation(string code, MigrationDescriptor migration, MigrationDirection direction, string message, string? table, string? column, string? suppressionReason)
    {
        Code = code;
        Version = migration.Version;
        MigrationClass = migration.ClassName;
        Direction = direction;
        Message = message;
        Table = table;
        Column = column;
        SafeAlternative = LintRules.All[code].SafeAlternative;
        SuppressionReason = suppressionReason;
    }

    /// <summary>The rule code, for example <c>RK-M012</c>.</summary>
    public string Code { get; }

    /// <summary>The migration version.</summary>
    public long Version { get; }

    /// <summary>The migration class.</summary>
    public string MigrationClass { get; }

    /// <summary>Up or Down.</summary>
    public MigrationDirection Direction { get; }

    /// <summary>What is wrong.</summary>
    public string Message { get; }

    /// <summary>The table, when the finding is about one.</summary>
    public string? Table { get; }

    /// <summary>The column, when the finding is about one.</summary>
    public string? Column { get; }

    /// <summary>What to do instead.</summary>
    public string SafeAlternative { get; }

    /// <summary>The reason given by <see cref="SuppressMigrationLintAttribute"/> when the finding is suppressed.</summary>
    public string? SuppressionReason { get; }

    /// <summary>Whether the finding is suppressed.</summary>
    public bool IsSuppressed => SuppressionReason is not null;

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder()
            .Append(Code).Append(' ').Append(Version).Append(' ').Append(MigrationClass).Append(" (").Append(Direction).Append(')');
        if (Table is not null)
        {
            text.Append(" table ").Append(Table);
            if (Column is not null)
            {
                text.Append(", column ").Append(Column);
            }
        }

        text.Append(": ").Append(Message).Append(" Safe alternative: ").Append(SafeAlternative);
        if (SuppressionReason is not null)
        {
            text.Append(" [suppressed: ").Append(SuppressionReason).Append(']');
        }

        return text.ToString();
    }
}

/// <summary>The result of linting a catalog of migrations.</summary>
public sealed class MigrationLintReport
{
    internal MigrationLintReport(IReadOnlyList<MigrationLintViolation> findings, int migrationCount, Gates.SqlDialect dialect)
    {
        Violations = [.. findings.Where(f => !f.IsSuppressed)];
        Suppressed = [.. findings.Where(f => f.IsSuppressed)];
        MigrationCount = migrationCount;
        Dialect = dialect;
    }

    /// <summary>The findings that are not suppressed.</summary>
    public IReadOnlyList<MigrationLintViolation> Violations { get; }

    /// <summary>The findings suppressed per migration, each with its reason.</summary>
    public IReadOnlyList<MigrationLintViolation> Suppressed { get; }

    /// <summary>How many migrations were linted.</summary>
    public int MigrationCount { get; }

    /// <summary>The SQL dialect the migrations were linted for.</summary>
    public Gates.SqlDialect Dialect { get; }

    /// <summary>Whether there is no violation left.</summary>
    public bool IsClean => Violations.Count == 0;

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("Migration lint (").Append(Dialect).Append("): ").Append(MigrationCount).Append(" migrations, ")
            .Append(Violations.Count).Append(" violation(s), ").Append(Suppressed.Count).Append(" suppressed.");
        foreach (var violation in Violations)
        {
            text.AppendLine().Append("  ").Append(violation);
        }

        foreach (var suppressed in Suppressed)
        {
            text.AppendLine().Append("  ").Append(suppressed);
        }

        return text.ToString();
    }
}

/// <summary>Thrown by <see cref="MigrationLint.AssertClean(System.Reflection.Assembly, Gates.SqlDialect, string?)"/>; the message lists every violation.</summary>
public sealed class MigrationLintException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MigrationLintException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public MigrationLintException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public MigrationLintException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal MigrationLintException(MigrationLintReport report)
        : base(report.ToString()) => Report = report;

    /// <summary>The report that failed.</summary>
    public MigrationLintReport? Report { get; }
}
