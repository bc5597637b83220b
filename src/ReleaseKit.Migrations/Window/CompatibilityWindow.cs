namespace ReleaseKit.Migrations;

/// <summary>
/// The rules that keep every live build compatible with the schema: pure functions over a build, the applied migrations
/// and the live instances.
/// </summary>
public static class CompatibilityWindow
{
    /// <summary>
    /// A build may run against a database when every applied migration it does not know is an Expand or a Backfill.
    /// An applied migration whose phase is unknown counts as a Contract (fail closed).
    /// </summary>
    /// <param name="build">The build.</param>
    /// <param name="applied">The migrations applied to the database.</param>
    public static WindowDecision CanRunAgainst(BuildSnapshot build, IEnumerable<AppliedMigration> applied)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(applied);
        foreach (var migration in applied.OrderBy(m => m.Version))
        {
            if (build.KnownMigrations.Contains(migration.Version))
            {
                continue;
            }

            if (migration.Phase is null)
            {
                return WindowDecision.Deny(
                    $"Build {build.Version} does not know applied migration {migration.Version}, and no build has recorded its phase; it is treated as a Contract. Deploy a build that knows it.",
                    migration.Version);
            }

            if (migration.Phase == Phase.Contract)
            {
                return WindowDecision.Deny(
                    $"Build {build.Version} does not know applied Contract migration {migration.Version}, which removed or changed what older builds read. Deploy a build that knows migration {migration.Version}.",
                    migration.Version);
            }
        }

        return WindowDecision.Allow($"Every applied migration that build {build.Version} does not know is an Expand or a Backfill.");
    }

    /// <summary>
    /// A migration may be applied when it is an Expand or a Backfill, or, for a Contract, when every live instance runs a build
    /// that knows it.
    /// </summary>
    /// <param name="migrationVersion">The migration to apply.</param>
    /// <param name="phase">Its phase; <see langword="null"/> counts as Contract.</param>
    /// <param name="liveInstances">The live instances of the fleet.</param>
    public static WindowDecision CanApply(long migrationVersion, Phase? phase, IEnumerable<FleetInstance> liveInstances)
    {
        ArgumentNullException.ThrowIfNull(liveInstances);
        if (phase is Phase.Expand or Phase.Backfill)
        {
            return WindowDecision.Allow($"Migration {migrationVersion} is {(phase == Phase.Expand ? "an Expand" : "a Backfill")}; builds that do not know it keep working.", migrationVersion);
        }

        var blocking = liveInstances
            .Where(i => !i.KnownMigrations.Contains(migrationVersion))
            .OrderBy(i => i.InstanceId, StringComparer.Ordinal)
            .ToList();
        if (blocking.Count == 0)
        {
            return WindowDecision.Allow($"Every live instance runs a build that knows Contract migration {migrationVersion}.", migrationVersion);
        }

        var names = blocking.Select(i => i.InstanceId).ToList();
        return WindowDecision.Deny(
            $"Contract migration {migrationVersion} is blocked by {blocking.Count} live instance(s) whose build does not know it: {string.Join(", ", blocking.Select(i => $"{i.InstanceId} (build {i.BuildVersion})"))}. Wait until they are replaced or expire.",
            migrationVersion,
            names);
    }

    /// <summary>Checks a migration of a catalog against the live instances; see <see cref="CanApply(long, Phase?, IEnumerable{FleetInstance})"/>.</summary>
    /// <param name="migration">The migration to apply.</param>
    /// <param name="liveInstances">The live instances of the fleet.</param>
    public static WindowDecision CanApply(MigrationDescriptor migration, IEnumerable<FleetInstance> liveInstances)
    {
        ArgumentNullException.ThrowIfNull(migration);
        return CanApply(migration.Version, migration.Phase, liveInstances);
    }

    /// <summary>
    /// Rolling back to an older build is allowed only while no Contract that the older build does not know has been applied
    /// (the same rule as <see cref="CanRunAgainst"/>, phrased for a rollback).
    /// </summary>
    /// <param name="olderBuild">The build to roll back to.</param>
    /// <param name="applied">The migrations applied to the database.</param>
    public static WindowDecision CanRollBackTo(BuildSnapshot olderBuild, IEnumerable<AppliedMigration> applied)
    {
        var decision = CanRunAgainst(olderBuild, applied);
        return decision.IsAllowed
            ? WindowDecision.Allow($"Rollback to build {olderBuild.Version} is safe: no Contract unknown to it has been applied.")
            : WindowDecision.Deny($"Rollback to build {olderBuild.Version} is not safe: {decision.Reason}", decision.DecidingMigration);
    }
}
