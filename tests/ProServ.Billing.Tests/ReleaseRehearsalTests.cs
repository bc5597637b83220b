using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Migrations;
using ReleaseKit.Reconciliation;
using ReleaseKit.Testing;

namespace ProServ.Billing.Tests;

/// <summary>
/// The release story end to end, on the real app: release N is healthy; N+1 expands the schema and starts posting
/// invoices to the ERP; a fault double-posts and fails exports; health says RollBack; the rollback to N is allowed (only
/// Expand and Backfill ran); the reconciliation replays and compensates until the ERP equals the journal; a Contract
/// is refused while N heartbeats and runs once N has expired.
/// </summary>
public sealed class ReleaseRehearsalTests
{
    private const string Canary = "northwind-labs";
    private const string N = "2026.11.1";
    private const string NPlus1 = "2026.12.1";
    private const string NPlus2 = "2027.1.1";

    [Fact]
    public async Task Rollback_rehearsal_on_sqlite_ends_with_the_erp_equal_to_the_journal_and_a_contract_only_after_the_old_build_expires()
    {
        using var directory = new TempDirectory();
        await using var fleet = new BillingFleet(directory, $"--ConnectionStrings:Billing=Data Source={directory.File("billing.db")}");
        await RehearseAsync(fleet);
    }

    [Fact]
    public async Task Rollback_rehearsal_on_postgres_ends_with_the_erp_equal_to_the_journal_and_a_contract_only_after_the_old_build_expires()
    {
        await using var database = await Databases.PostgresAsync();
        using var directory = new TempDirectory();
        var connectionString = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable(Databases.PostgresVariable)) { Database = database.Name }.ConnectionString;
        await using var fleet = new BillingFleet(directory, "--Database:Provider=postgres", $"--ConnectionStrings:Billing={connectionString}");
        await RehearseAsync(fleet);
        NpgsqlConnection.ClearAllPools();
    }

    private static async Task RehearseAsync(BillingFleet fleet)
    {
        var ct = TestContext.Current.CancellationToken;

        // Release N serves: it exports invoices the legacy way (no ERP posting) and is healthy.
        var (releaseN, clientN) = await fleet.StartAsync(N, "web-n", "--Release:RemoveOnStop=false");
        using (clientN)
        {
            var project = await clientN.FirstProjectAsync(Canary);
            for (var i = 0; i < 20; i++)
            {
                var (_, status) = await clientN.BillAsync(Canary, project, 60 + i);
                Assert.Equal(200, status);
            }
        }

        fleet.Time.Advance(TimeSpan.FromMinutes(5));
        var monitorN = releaseN.Services.GetRequiredService<ReleaseHealthMonitor>();
        var healthN = monitorN.Evaluate(monitorN.Window(ReleaseWindow.FirstHourName));
        Assert.True(healthN.Verdict == HealthVerdict.Healthy, $"release N should be healthy: {healthN}");
        Assert.Empty(fleet.Erp.Snapshot());

        // Release N+1 deploys beside N (rolling): Expand + Backfill apply while N is live, and it posts to the ERP.
        var deployedNPlus1 = fleet.Time.GetUtcNow();
        var (releaseNPlus1, clientNPlus1) = await fleet.StartAsync(NPlus1, "web-n1", "--Erp:DuplicateEvery=4", "--Erp:FailEvery=5");
        var applied = await releaseNPlus1.Services.GetRequiredService<FleetRegistry>().GetAppliedMigrationsAsync(ct);
        Assert.Equal([202611010001L, 202612010001L, 202612010002L], applied.Select(a => a.Version));
        var backfilled = await releaseNPlus1.Services.GetRequiredService<BillingStore>().FindInvoiceAsync(Canary, 1, ct);
        Assert.Equal("CSV-" + backfilled!.Number, backfilled.ErpDocumentNo); // the Backfill copied the legacy reference

        var exported = new List<Invoice>();
        var failedExports = 0;
        using (clientNPlus1)
        {
            var project = await clientNPlus1.FirstProjectAsync(Canary);
            for (var i = 0; i < 20; i++)
            {
                var (invoice, status) = await clientNPlus1.BillAsync(Canary, project, 30 + i);
                exported.Add(invoice);
                failedExports += status == 502 ? 1 : 0;
                Assert.True(status is 200 or 502, $"export of {invoice.Number} answered {status}");
            }
        }

        Assert.Equal(4, failedExports);                                   // every 5th send: 503 on every attempt
        var erpCopies = fleet.Erp.Snapshot(Canary);
        Assert.Equal(16 + 4, erpCopies.Count);                            // 16 posted, 4 of them twice (every 4th send that did not fail)
        Assert.Equal(4, erpCopies.GroupBy(r => r.BusinessKey).Count(g => g.Count() == 2));

        // Health says roll back: the failed-export rate is far above 2% (a critical criterion).
        fleet.Time.Advance(TimeSpan.FromMinutes(5));
        var monitor = releaseNPlus1.Services.GetRequiredService<ReleaseHealthMonitor>();
        var health = monitor.Evaluate(monitor.Window(ReleaseWindow.FirstHourName));
        Assert.True(health.Verdict == HealthVerdict.RollBack, $"release N+1 should be rolled back: {health}");
        Assert.Contains(health.Criteria, c => c.Name == "invoice-export-failures" && c.Verdict == ReleaseKit.Gates.Verdict.Fail);

        // Rollback to N is allowed: only Expand and Backfill ran. N's startup gate (schema compatibility) passes.
        var catalog = releaseN.Services.GetRequiredService<MigrationCatalog>();
        var appliedNow = await releaseN.Services.GetRequiredService<FleetRegistry>().GetAppliedMigrationsAsync(ct);
        var rollback = CompatibilityWindow.CanRollBackTo(catalog.ToBuild(N), appliedNow);
        Assert.True(rollback.IsAllowed, rollback.Reason);
        var startup = await BillingFleet.ReleaseKitAsync(releaseN, "check", "--stage", "startup");
        Assert.True(startup.ExitCode == 0, startup.Output);
        await releaseNPlus1.StopAsync(ct);

        // Reconciliation (run by N, the release that stays): replay the failed exports, reverse the double posts.
        var reconciler = releaseN.Services.GetRequiredService<Reconciler>();
        var scope = new ReconciliationScope(deployedNPlus1.AddMinutes(-1), fleet.Time.GetUtcNow().AddMinutes(1), [Canary], releaseVersion: NPlus1);
        var plan = await reconciler.PlanAsync(scope, ct);
        Assert.True(plan.Count(ReconciliationAction.Replay) == 4 && plan.Count(ReconciliationAction.Compensate) == 4 && plan.Count(ReconciliationAction.Hold) == 0, plan.Render());
        var result = await reconciler.ExecuteAsync(plan, "rollback-2026.12.1", cancellationToken: ct);
        Assert.Equal(4, result.Replayed);
        Assert.Equal(4, result.Compensated);
        var settled = await reconciler.PlanAsync(scope, ct);
        Assert.True(settled.IsSettled && settled.Items.Count == 0, settled.Render());

        // The ERP ends exactly equal to the journal: one live record per journaled posting, same key and amount, nothing else.
        var journal = releaseN.Services.GetRequiredService<PostingJournal>();
        var records = fleet.Erp.Snapshot(Canary);
        var reversed = records.Where(r => r.Reverses is not null).Select(r => r.Reverses!).ToHashSet(StringComparer.Ordinal);
        var live = records.Where(r => r.Reverses is null && !reversed.Contains(r.ErpReference)).ToList();
        var expected = new List<(string, string, Money)>();
        foreach (var invoice in exported)
        {
            var entry = await journal.FindAsync(Canary, PostingKind.InvoiceExport, invoice.Number, ct);
            Assert.NotNull(entry);
            Assert.Equal(PostingStatus.Acknowledged, entry.Status);
            expected.Add((entry.BusinessKey, entry.IdempotencyKey, entry.Amount));
        }

        Assert.Equal(
            expected.OrderBy(e => e.Item1, StringComparer.Ordinal),
            live.Select(r => (r.BusinessKey, r.IdempotencyKey, r.Amount)).OrderBy(e => e.BusinessKey, StringComparer.Ordinal));

        // Release N+2 brings the Contract: refused while N still heartbeats ...
        var releaseNPlus2 = fleet.Create(NPlus2, "web-n2");
        var refused = await BillingFleet.ReleaseKitAsync(releaseNPlus2, "migrations", "apply", "--phase", "contract");
        Assert.True(refused.ExitCode == 1, refused.Output);
        Assert.Contains("web-n", refused.Output, StringComparison.Ordinal);
        var registry = releaseNPlus2.Services.GetRequiredService<FleetRegistry>();
        Assert.DoesNotContain((await registry.GetAppliedMigrationsAsync(ct)).Select(a => a.Version), v => v == 202701010001L);

        // ... and runs once N has stopped heartbeating (a crash leaves its row) for longer than the instance expiry.
        await releaseN.StopAsync(ct);
        fleet.Time.Advance(TimeSpan.FromMinutes(3));
        var contracted = await BillingFleet.ReleaseKitAsync(releaseNPlus2, "migrations", "apply", "--phase", "contract");
        Assert.True(contracted.ExitCode == 0, contracted.Output);
        var final = await registry.GetAppliedMigrationsAsync(ct);
        Assert.Contains(final.Select(a => a.Version), v => v == 202701010001L);
        Assert.False(CompatibilityWindow.CanRollBackTo(catalog.ToBuild(N), final).IsAllowed); // and now N could no longer come back
    }
}
