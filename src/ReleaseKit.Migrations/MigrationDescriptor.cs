using System.Reflection;
using FluentMigrator;

namespace ReleaseKit.Migrations;

/// <summary>What ReleaseKit knows about one FluentMigrator migration: version, class, phase and sign-offs.</summary>
public sealed class MigrationDescriptor
{
    internal MigrationDescriptor(Type type, MigrationAttribute migration)
    {
        Type = type;
        Version = migration.Version;
        Description = migration.Description;
        TransactionBehavior = migration.TransactionBehavior;
        var phase = type.GetCustomAttribute<MigrationPhaseAttribute>(inherit: false);
        Phase = phase?.Phase;
        Completes = phase is { Completes: > 0 } ? phase.Completes : null;
        RawSqlSignOff = type.GetCustomAttribute<RawSqlSignOffAttribute>(inherit: false)?.Reason;
        ForwardFix = type.GetCustomAttribute<ForwardFixAttribute>(inherit: false)?.Fix;
        Suppressions = type.GetCustomAttributes<SuppressMigrationLintAttribute>(inherit: false)
            .GroupBy(s => s.Code ?? string.Empty, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Reason ?? string.Empty, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The migration version (FluentMigrator's <see cref="MigrationAttribute.Version"/>).</summary>
    public long Version { get; }

    /// <summary>The migration class.</summary>
    public Type Type { get; }

    /// <summary>The class name used in reports.</summary>
    public string ClassName => Type.FullName ?? Type.Name;

    /// <summary>The migration's description, if any.</summary>
    public string? Description { get; }

    /// <summary>The declared phase, or <see langword="null"/> when the migration declares none (a lint error).</summary>
    public Phase? Phase { get; }

    /// <summary>For a Contract, the version of the Expand it completes.</summary>
    public long? Completes { get; }

    /// <summary>Whether FluentMigrator runs the migration in a transaction.</summary>
    public TransactionBehavior TransactionBehavior { get; }

    internal string? RawSqlSignOff { get; }

    internal string? ForwardFix { get; }

    internal IReadOnlyDictionary<string, string> Suppressions { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Version} {Type.Name} ({Phase?.ToString() ?? "no phase"})";
}
