namespace ReleaseKit.Migrations;

/// <summary>Declares the expand/backfill/contract phase of a FluentMigrator migration.</summary>
/// <example><code>[Migration(202601150900)]
/// [MigrationPhase(Phase.Contract, Completes = 202601010900)]
/// public sealed class DropInvoiceTotal : Migration { ... }</code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class MigrationPhaseAttribute : Attribute
{
    /// <summary>Declares the phase.</summary>
    /// <param name="phase">The phase of the migration.</param>
    public MigrationPhaseAttribute(Phase phase) => Phase = phase;

    /// <summary>The phase of the migration.</summary>
    public Phase Phase { get; }

    /// <summary>For a Contract, the version of the Expand migration it completes; 0 when there is none.</summary>
    public long Completes { get; set; }
}

/// <summary>Signs off the raw SQL (<c>Execute.Sql</c>, scripts, <c>PerformDBOperation</c>) of a migration, which lint cannot classify.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RawSqlSignOffAttribute : Attribute
{
    /// <summary>Signs off the raw SQL with the reason it is safe in the migration's phase.</summary>
    /// <param name="reason">Why the raw SQL is safe in this phase (who reviewed it and what it does).</param>
    public RawSqlSignOffAttribute(string reason) => Reason = reason;

    /// <summary>Why the raw SQL is safe in this phase.</summary>
    public string Reason { get; }
}

/// <summary>Marks a migration whose Down cannot be produced as forward-fix: a failed release is repaired by a new migration, not by rolling back.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ForwardFixAttribute : Attribute
{
    /// <summary>Marks the migration forward-fix.</summary>
    /// <param name="fix">The documented fix: what to run or deploy if the release must be undone.</param>
    public ForwardFixAttribute(string fix) => Fix = fix;

    /// <summary>The documented fix.</summary>
    public string Fix { get; }
}

/// <summary>Suppresses one lint rule for one migration, with a reason that the lint report shows.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SuppressMigrationLintAttribute : Attribute
{
    /// <summary>Suppresses <paramref name="code"/> for the migration.</summary>
    /// <param name="code">The rule code, for example <c>RK-M012</c>.</param>
    /// <param name="reason">Why the rule does not apply; shown in the report.</param>
    public SuppressMigrationLintAttribute(string code, string reason)
    {
        Code = code;
        Reason = reason;
    }

    /// <summary>The rule code.</summary>
    public string Code { get; }

    /// <summary>Why the rule does not apply.</summary>
    public string Reason { get; }
}
