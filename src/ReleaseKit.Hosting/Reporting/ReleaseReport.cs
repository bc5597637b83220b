using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Migrations;
using ReleaseKit.Reconciliation;

namespace ReleaseKit.Hosting;

/// <summary>
/// Everything one release report shows: the gate run (its verdict is the report's verdict), and optionally the pending
/// migration plan, the health of the release per window and a reconciliation summary. Write it with
/// <see cref="HtmlReleaseReportWriter"/>; a section appears only when its data is set.
/// </summary>
public sealed class ReleaseReport
{
    /// <summary>Creates a report around a gate run.</summary>
    /// <param name="gates">The gate run; its verdict is the verdict at the top of the report.</param>
    public ReleaseReport(GateReport gates)
    {
        ArgumentNullException.ThrowIfNull(gates);
        Gates = gates;
    }

    /// <summary>Gets the gate run.</summary>
    public GateReport Gates { get; }

    /// <summary>Gets or initializes the pending migrations with what the compatibility window allows now (<see cref="FleetMigrator.PlanAsync(CancellationToken)"/>).</summary>
    public MigrationPlan? MigrationPlan { get; init; }

    /// <summary>Gets or initializes the health of the release per window (<see cref="ReleaseHealthMonitor.Evaluate(ReleaseWindow, WindowSnapshot?)"/>); empty for none.</summary>
    public IReadOnlyList<HealthReport> Health { get; init; } = [];

    /// <summary>Gets or initializes what a reconciliation found and planned (<see cref="Reconciler.ReportAsync(ReconciliationScope, CancellationToken)"/>).</summary>
    public ReconciliationReport? Reconciliation { get; init; }

    /// <summary>Gets or initializes what executing the reconciliation plan did (<see cref="Reconciler.ExecuteAsync"/>), if it ran.</summary>
    public ReplayResult? ReconciliationResult { get; init; }
}
