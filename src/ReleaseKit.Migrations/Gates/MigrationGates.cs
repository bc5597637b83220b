using System.Globalization;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations;

/// <summary>Startup: this build must be inside the database's compatibility window; otherwise the instance does not become ready.</summary>
internal sealed class SchemaCompatibilityGate(MigrationCatalog catalog, FleetRegistry registry, string buildVersion) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var read = await registry.ReadAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false);
        var applied = read.Applied;
        var evidence = new List<Evidence>
        {
            Evidence.Of("build", buildVersion),
            Evidence.Of("applied-migrations", applied.Count),
        };
        if (read.IsUndecidable)
        {
            evidence.Add(Evidence.Of("version-table", "missing"));
            evidence.Add(Evidence.Of("application-tables", string.Join(", ", read.OtherTables)));
            return GateResult.Inconclusive(registry.UndecidableReason(read), evidence);
        }

        var decision = CompatibilityWindow.CanRunAgainst(catalog.ToBuild(buildVersion), applied);
        if (decision.DecidingMigration is { } migration)
        {
            evidence.Add(Evidence.Of("migration", migration.ToString(CultureInfo.InvariantCulture)));
        }

        return decision.IsAllowed ? GateResult.Pass(decision.Reason, evidence) : GateResult.Fail(decision.Reason, evidence);
    }
}

/// <summary>
/// Promotion: every pending Contract of this build must be known to every live instance. With a pending Contract, migrations
/// already applied and no live instance at all the gate is Inconclusive: an empty registry also means heartbeats that stopped, not
/// only a fleet that is gone.
/// </summary>
internal sealed class ContractSafetyGate(MigrationCatalog catalog, FleetRegistry registry) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var read = await registry.ReadAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false);
        var applied = read.Applied.Select(a => a.Version).ToHashSet();
        var live = await registry.GetLiveInstancesAsync(cancellationToken).ConfigureAwait(false);
        var evidence = new List<Evidence> { Evidence.Of("live-instances", live.Count) };
        var pending = catalog.Migrations.Where(m => !applied.Contains(m.Version) && m.Phase is not Phase.Expand and not Phase.Backfill).ToList();
        if (read.IsUndecidable)
        {
            evidence.Add(Evidence.Of("version-table", "missing"));
            return GateResult.Inconclusive(registry.UndecidableReason(read), evidence);
        }

        // No live instance: either the fleet is gone or its heartbeats stopped. On a database where migrations are applied an older
        // build may still serve from that schema, so that is undecidable; on one where nothing is applied there is no old shape to need.
        if (pending.Count > 0 && live.Count == 0 && applied.Count > 0)
        {
            evidence.Add(Evidence.Of("pending-contracts", string.Join(",", pending.Select(m => m.Version.ToString(CultureInfo.InvariantCulture)))));
            return GateResult.Inconclusive(
                $"{pending.Count} Contract migration(s) are pending ({string.Join(", ", pending.Select(m => m.Version.ToString(CultureInfo.InvariantCulture)))}) and no instance has heartbeated within the instance expiry, "
                + $"so whether an older build still runs cannot be told (heartbeats that stopped look the same as a fleet that is gone). Check that the instances heartbeat into {FleetRegistry.InstancesTable}, then run the gate again.",
                evidence);
        }

        var blocked = new List<WindowDecision>();
        foreach (var migration in pending)
        {
            var decision = CompatibilityWindow.CanApply(migration, live);
            if (!decision.IsAllowed)
            {
                blocked.Add(decision);
                evidence.Add(Evidence.Of($"contract-{migration.Version}", string.Join(",", decision.BlockingInstances), source: migration.ClassName));
            }
        }

        return blocked.Count == 0
            ? GateResult.Pass("Every pending Contract is known to every live instance.", evidence)
            : GateResult.Fail(string.Join(" ", blocked.Select(b => b.Reason)), evidence);
    }
}

/// <summary>Promotion: the migrations pass lint (destructive changes only in Contract, reversible or forward-fix, ...).</summary>
internal sealed class MigrationLintGate(MigrationCatalog catalog, SqlDialect dialect) : IReleaseGate
{
    public ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var report = MigrationLint.Lint(catalog, dialect, context.Services);
        var evidence = report.Violations.Select(v => Evidence.Of(v.Code, $"{v.Version} {v.MigrationClass}: {v.Message}", source: v.SafeAlternative))
            .Concat(report.Suppressed.Select(v => Evidence.Of(v.Code + " (suppressed)", $"{v.Version} {v.MigrationClass}: {v.SuppressionReason}")))
            .Append(Evidence.Of("migrations", report.MigrationCount));
        return ValueTask.FromResult(report.IsClean
            ? GateResult.Pass($"{report.MigrationCount} migrations pass lint ({report.Suppressed.Count} suppressed).", evidence)
            : GateResult.Fail($"{report.Violations.Count} migration lint violation(s): {string.Join("; ", report.Violations.Select(v => $"{v.Code} in {v.Version}"))}.", evidence));
    }
}
