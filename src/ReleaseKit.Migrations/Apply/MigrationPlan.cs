using System.Text;

namespace ReleaseKit.Migrations;

/// <summary>The pending migrations of a build, in the order they would apply.</summary>
public sealed class MigrationPlan
{
    internal MigrationPlan(IReadOnlyList<MigrationPlanStep> steps) => Steps = steps;

    /// <summary>The pending migrations, in version order.</summary>
    public IReadOnlyList<MigrationPlanStep> Steps { get; }

    /// <summary>The pending migrations grouped by phase (migrations without a phase are left out; they appear in <see cref="Steps"/>).</summary>
    public ILookup<Phase, MigrationPlanStep> ByPhase => Steps.Where(s => s.Phase is not null).ToLookup(s => s.Phase!.Value);

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder().Append(Steps.Count).Append(" pending migration(s)");
        foreach (var step in Steps)
        {
            text.AppendLine().Append("  ").Append(step);
        }

        return text.ToString();
    }
}

/// <summary>One pending migration in a plan.</summary>
public sealed class MigrationPlanStep
{
    internal MigrationPlanStep(MigrationDescriptor migration, string summary, bool mayRunNow, string reason, IReadOnlyList<string> blockingInstances)
    {
        Version = migration.Version;
        MigrationClass = migration.ClassName;
        Phase = migration.Phase;
        Summary = summary;
        MayRunNow = mayRunNow;
        Reason = reason;
        BlockingInstances = blockingInstances;
    }

    /// <summary>The migration version.</summary>
    public long Version { get; }

    /// <summary>The migration class.</summary>
    public string MigrationClass { get; }

    /// <summary>The phase, or <see langword="null"/> when the migration declares none.</summary>
    public Phase? Phase { get; }

    /// <summary>What the migration does (its Up expressions).</summary>
    public string Summary { get; }

    /// <summary>Whether it may run now.</summary>
    public bool MayRunNow { get; }

    /// <summary>Why it may or may not run now.</summary>
    public string Reason { get; }

    /// <summary>The live instances that block it.</summary>
    public IReadOnlyList<string> BlockingInstances { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Version} {Phase?.ToString() ?? "(no phase)"} {MigrationClass}: {Summary} -> {(MayRunNow ? "may run now" : "blocked")}: {Reason}";
}

/// <summary>The outcome of <see cref="FleetMigrator.ApplyAsync(Phase, CancellationToken)"/>.</summary>
public sealed class MigrationApplyResult
{
    private MigrationApplyResult(IReadOnlyList<long> applied, long? stoppedAt, string reason, IReadOnlyList<string> blockingInstances, bool refused, Exception? error)
    {
        Applied = applied;
        StoppedAt = stoppedAt;
        Reason = reason;
        BlockingInstances = blockingInstances;
        IsRefused = refused;
        Error = error;
    }

    /// <summary>The migrations applied by this call, in order.</summary>
    public IReadOnlyList<long> Applied { get; }

    /// <summary>The first pending migration not applied, if any.</summary>
    public long? StoppedAt { get; }

    /// <summary>Why the call ended where it did.</summary>
    public string Reason { get; }

    /// <summary>The live instances that block the migration at <see cref="StoppedAt"/>.</summary>
    public IReadOnlyList<string> BlockingInstances { get; }

    /// <summary>Whether a migration in the requested phases was refused (blocked Contract, no phase) or failed.</summary>
    public bool IsRefused { get; }

    /// <summary>The error of a failed migration.</summary>
    public Exception? Error { get; }

    /// <summary>Whether every requested migration was applied (nothing refused or failed).</summary>
    public bool Succeeded => !IsRefused && Error is null;

    internal static MigrationApplyResult Completed(IReadOnlyList<long> applied) =>
        new(applied, null, applied.Count == 0 ? "Nothing to apply." : $"Applied {applied.Count} migration(s).", [], false, null);

    internal static MigrationApplyResult Stopped(IReadOnlyList<long> applied, long at, string reason, IReadOnlyList<string> blocking, bool refused = true) =>
        new(applied, at, reason, blocking, refused, null);

    internal static MigrationApplyResult Failed(IReadOnlyList<long> applied, long at, string reason, Exception error) =>
        new(applied, at, reason, [], true, error);

    /// <inheritdoc />
    public override string ToString() => Reason;
}
