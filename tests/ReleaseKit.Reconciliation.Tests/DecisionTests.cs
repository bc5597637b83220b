using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;

namespace ReleaseKit.Reconciliation.Tests;

/// <summary>A person's decision on a held item: recorded with who and why, honoured while the discrepancy is unchanged.</summary>
public sealed class DecisionTests
{
    public static TheoryData<string> Databases => Harness.Databases;

    private static ErpRecord HandPosted(string reference = "HAND-9", decimal amount = 99m) =>
        new("acme", PostingKind.InvoiceExport, "INV-9", "hand-" + reference, new string('a', 64), new Money(amount, "EUR"), Harness.Start.AddMinutes(7), reference);

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task An_accepted_held_item_leaves_the_plan_settled_and_is_reported_as_decided_by_a_person(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        h.Erp.Seed(HandPosted());
        var reconciler = h.Reconciler();
        var held = Assert.Single((await reconciler.PlanAsync(Harness.Scope(), ct)).Items);
        h.Time.Advance(TimeSpan.FromMinutes(3));

        var decision = await reconciler.RecordDecisionAsync(held, "maria.keller", "Posted by hand in the ERP on purpose (credit note agreed with the client).", ct);
        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);
        var report = await reconciler.ReportAsync(Harness.Scope(), ct);

        Assert.Equal(ReconciliationAction.Hold, held.Action);
        Assert.Empty(plan.Items);
        Assert.True(plan.IsSettled);
        var decided = Assert.Single(plan.Decided);
        Assert.Equal(("INV-9", DiscrepancyClass.OrphanDownstream), (decided.Discrepancy.BusinessKey, decided.Discrepancy.Class));
        Assert.Equal(("maria.keller", ReconciliationDecisionKind.AcceptAsIs), (decided.Decision.DecidedBy, decided.Decision.Decision));
        Assert.Equal(h.Time.GetUtcNow(), decided.Decision.DecidedAt);
        Assert.Equal(held.Reason, decided.Decision.DecidedOn);
        Assert.Empty(plan.Reopened);
        Assert.Contains("DECIDED     acme/invoice-export/INV-9 [OrphanDownstream] - accepted as is by maria.keller", plan.Render(), StringComparison.Ordinal);
        Assert.True(report.IsClean);
        Assert.Empty(report.Held);
        Assert.Single(report.Decided);
        Assert.Contains("### Decided by a person (1)", report.ToMarkdown(), StringComparison.Ordinal);
        Assert.Contains("credit note agreed with the client", report.ToMarkdown(), StringComparison.Ordinal);
        var listed = Assert.Single(await reconciler.ListDecisionsAsync("acme", ct));
        Assert.Equal((decision.Fingerprint, decision.DecidedAt), (listed.Fingerprint, listed.DecidedAt));
        Assert.Empty(await reconciler.ListDecisionsAsync("globex", ct));
        Assert.Equal(0, h.Erp.PostCount); // a decision changes neither side
        var executed = await reconciler.ExecuteAsync(plan, "run-decided", cancellationToken: ct);
        Assert.Equal(0, executed.Held);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_decision_no_longer_applies_once_the_discrepancy_changes_and_the_plan_says_so(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        h.Erp.Seed(HandPosted());
        var reconciler = h.Reconciler();
        var held = Assert.Single((await reconciler.PlanAsync(Harness.Scope(), ct)).Items);
        await reconciler.RecordDecisionAsync(held, "maria.keller", "Posted by hand on purpose.", ct);

        h.Erp.Seed(HandPosted("HAND-10", 250m)); // someone posts a second record by hand for the same key
        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);

        var again = Assert.Single(plan.Items);
        Assert.Equal(ReconciliationAction.Hold, again.Action);
        Assert.Empty(plan.Decided);
        var reopened = Assert.Single(plan.Reopened);
        Assert.Equal("maria.keller", reopened.Decision.DecidedBy);
        Assert.Contains("A previous decision no longer matches: maria.keller accepted it as is", again.Reason, StringComparison.Ordinal);
        Assert.Contains("HAND-10", again.Reason, StringComparison.Ordinal);
        Assert.Single(await reconciler.ListDecisionsAsync(cancellationToken: ct)); // the old decision stays, for the record

        var decidedAgain = await reconciler.RecordDecisionAsync(again, "maria.keller", "Both hand postings are intended.", ct);
        var settled = await reconciler.PlanAsync(Harness.Scope(), ct);

        Assert.Empty(settled.Items);
        Assert.Equal(decidedAgain.Fingerprint, Assert.Single(settled.Decided).Decision.Fingerprint);
        Assert.Equal(2, (await reconciler.ListDecisionsAsync("acme", ct)).Count);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task An_amount_mismatch_accepted_at_one_amount_is_held_again_when_the_erp_amount_changes(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1", 100m), cancellationToken: ct);
        var reconciler = h.Reconciler();
        await reconciler.SendAsync(entry, ct);
        var record = Assert.Single(h.Erp.Snapshot());
        var mismatch = new InMemoryErp { PageSize = 2 };
        mismatch.Seed(record with { Amount = new Money(90m, "EUR") });
        var seen = h.Reconciler(gateway: mismatch);
        var held = Assert.Single((await seen.PlanAsync(Harness.Scope(), ct)).Items);
        await seen.RecordDecisionAsync(held, "finance", "Discount of 10 applied in the ERP by the account manager.", ct);

        var changed = new InMemoryErp { PageSize = 2 };
        changed.Seed(record with { Amount = new Money(80m, "EUR") });
        var accepted = await seen.PlanAsync(Harness.Scope(), ct);
        var reopened = await h.Reconciler(gateway: changed).PlanAsync(Harness.Scope(), ct);

        Assert.Equal(DiscrepancyClass.AmountMismatch, held.Class);
        Assert.Single(accepted.Decided);
        Assert.Empty(accepted.Items);
        Assert.Equal(DiscrepancyClass.AmountMismatch, Assert.Single(reopened.Items).Class);
        Assert.Single(reopened.Reopened);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Recording_a_decision_on_an_item_that_is_not_held_or_without_who_and_why_is_refused(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);
        h.Erp.Seed(HandPosted());
        var reconciler = h.Reconciler();
        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);
        var replay = Assert.Single(plan.Items, i => i.Action == ReconciliationAction.Replay);
        var held = Assert.Single(plan.Items, i => i.Action == ReconciliationAction.Hold);

        var notHeld = await Assert.ThrowsAsync<ArgumentException>(() => reconciler.RecordDecisionAsync(replay, "maria.keller", "Looks fine.", ct));
        await Assert.ThrowsAsync<ArgumentException>(() => reconciler.RecordDecisionAsync(held, "maria.keller", "  ", ct));
        await Assert.ThrowsAsync<ArgumentException>(() => reconciler.RecordDecisionAsync(held, "", "Posted by hand on purpose.", ct));

        Assert.Contains("Only items held for a person can be decided: acme/invoice-export/INV-1 [MissingDownstream] is planned to replay", notHeld.Message, StringComparison.Ordinal);
        Assert.Empty(await reconciler.ListDecisionsAsync(cancellationToken: ct));
        Assert.Equal(2, (await reconciler.PlanAsync(Harness.Scope(), ct)).Items.Count);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task The_backlog_gate_passes_once_a_person_accepted_a_rejected_posting_and_fails_again_if_it_changes(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await using var services = Services(h, lookback: false);
        var reconciler = services.GetRequiredService<Reconciler>();
        h.Erp.InjectFault("acme", "INV-1", ErpFault.Reject);
        await reconciler.SendAsync(await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct), ct);
        h.Time.Advance(TimeSpan.FromMinutes(40));

        var before = await RunGatesAsync(services);
        var held = Assert.Single((await reconciler.PlanAsync(Harness.Scope(), ct)).Items);
        await reconciler.RecordDecisionAsync(held, "maria.keller", "Period closed; re-invoiced manually in December.", ct);
        var after = await RunGatesAsync(services);
        await h.ExecuteSqlAsync("UPDATE releasekit_posting_journal SET last_error = 'rejected: unknown account' WHERE business_key = 'INV-1'");
        var changed = await RunGatesAsync(services);

        Assert.Equal(DiscrepancyClass.Rejected, held.Class);
        Assert.Equal(Verdict.Fail, before.Verdict);
        Assert.Contains("1 failed", Assert.Single(before.Entries).Result.Reason, StringComparison.Ordinal);
        Assert.Equal(Verdict.Pass, after.Verdict);
        Assert.Contains(Assert.Single(after.Entries).Result.Evidence, e => e.Name == "failed_accepted_by_a_person" && e.Observed == "1");
        Assert.Equal(Verdict.Fail, changed.Verdict);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task With_an_erp_lookback_the_backlog_gate_passes_once_a_person_accepted_the_held_orphan(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await using var services = Services(h, lookback: true);
        var reconciler = services.GetRequiredService<Reconciler>();
        await reconciler.SendAsync(await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct), ct); // the tenant has journaled postings
        h.Erp.Seed(HandPosted());
        h.Time.Advance(TimeSpan.FromMinutes(40));

        var before = await RunGatesAsync(services);
        var held = Assert.Single((await reconciler.PlanAsync(Harness.Scope(), ct)).Items);
        await reconciler.RecordDecisionAsync(held, "maria.keller", "Posted by hand on purpose.", ct);
        var after = await RunGatesAsync(services);
        h.Erp.Seed(HandPosted("HAND-10"));
        var reopened = await RunGatesAsync(services);

        Assert.Equal(Verdict.Fail, before.Verdict);
        Assert.Equal(Verdict.Pass, after.Verdict);
        var entry = Assert.Single(after.Entries);
        Assert.Contains("apart from 1 difference(s) a person accepted (acme/invoice-export/INV-9 by maria.keller: Posted by hand on purpose.)", entry.Result.Reason, StringComparison.Ordinal);
        Assert.Contains(entry.Result.Evidence, e => e.Name == "erp_decided_by_a_person" && e.Observed == "1");
        Assert.Equal(Verdict.Fail, reopened.Verdict);
        Assert.Contains("1 held again because a person's decision no longer matches", Assert.Single(reopened.Entries).Result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_journal_created_before_decisions_existed_gets_the_decisions_table(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.EnsureCreatedAsync(ct);
        await h.ExecuteSqlAsync("DROP TABLE releasekit_reconciliation_decisions"); // the schema of the previous version
        h.Erp.Seed(HandPosted());
        var upgraded = new Reconciler(new PostingJournal(h.DataSource, h.Time), h.Erp, new ReconciliationOptions { MaxPostsPerSecond = null }, h.Time);
        var held = Assert.Single((await upgraded.PlanAsync(Harness.Scope(), ct)).Items);

        await upgraded.RecordDecisionAsync(held, "maria.keller", "Posted by hand on purpose.", ct);

        Assert.Single((await upgraded.PlanAsync(Harness.Scope(), ct)).Decided);
    }

    private static ServiceProvider Services(Harness h, bool lookback)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(h.Time);
        services.AddSingleton<IErpGateway>(h.Erp);
        services.AddReleaseKit()
            .AddReconciliation(_ => h.DataSource, o =>
            {
                o.BacklogBound = TimeSpan.FromMinutes(30);
                o.BacklogErpLookback = lookback ? TimeSpan.FromDays(1) : null;
                o.MaxPostsPerSecond = null;
                o.RetryDelay = TimeSpan.Zero;
                o.MaxRetryAttempts = 0;
            })
            .AddGates(g => g.AddReconciliationBacklogGate());
        return services.BuildServiceProvider();
    }

    private static async Task<GateReport> RunGatesAsync(IServiceProvider services)
    {
        var manifest = new ReleaseManifest { ReleaseId = "r-1", Version = "2026.11.3" };
        return await services.GetRequiredService<IReleaseGateRunner>().RunAsync(new GateRunRequest { Manifest = manifest, EnvironmentName = "production" }, TestContext.Current.CancellationToken);
    }
}
