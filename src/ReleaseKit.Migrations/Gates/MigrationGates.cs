using System.Globalization;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations;

/// <summary>Startup: this build must be inside the database's compatibility window; otherwise the instance does not become ready.</summary>
internal sealed class SchemaCompatibilityGate(MigrationCatalog catalog, FleetRegistry registry, string buildVersion) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var applied = await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false);
        var decision = CompatibilityWindow.CanRunAgainst(catalog.ToBuild(buildVersion), applied);
        var evidence = new List<Evidence>
        {
            Evidence.Of("build", buildVersion),
            Evidence.Of("applied-migrations", applied.Count),
        };
        if (decision.DecidingMigration is { } migration)
        {
            evidence.Add(Evidence.Of("migration", migration.ToString(CultureInfo.InvariantCulture)));
        }

        return decision.IsAllowed ? GateResult.Pass(decision.Reason, evidence) : GateResult.Fail(decision.Reason, evidence);
    }
}

/// <summary>Promotion: every pending Contract of this build must be known to every live instance.</summary>
internal sealed class ContractSafetyGate(MigrationCatalog catalog, FleetRegistry registry) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var applied = (await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version).ToHashSet();
        var live = await registry.GetLiveInstancesAsync(cancellationToken).ConfigureAwait(false);
        var evidence = new List<Evidence> { Evidence.Of("live-instances", live.Count) };
        var blocked = new List<WindowDecision>();
        foreach (var migration in catalog.Migrations.Where(m => !applied.Contains(m.Version) && m.Phase is not Phase.Expand and not Phase.Backfill))
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
