using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Reconciliation.Internal;

namespace ReleaseKit.Reconciliation.Tests;

public sealed class ReplayTests
{
    public static TheoryData<string> Databases => Harness.Databases;

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_dry_run_renders_the_plan_and_changes_nothing(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);

        var plan = await h.Reconciler().PlanAsync(Harness.Scope(), ct);
        var text = plan.Render();

        Assert.Contains("REPLAY", text, StringComparison.Ordinal);
        Assert.Contains("acme/invoice-export/INV-1 [MissingDownstream] 120.5 EUR", text, StringComparison.Ordinal);
        Assert.Contains("1 replay", text, StringComparison.Ordinal);
        Assert.Equal(0, h.Erp.PostCount);
        Assert.Equal(entry, await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-1", ct));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_plan_is_scoped_by_release_kind_and_time_range(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("INV-IN", release: "2026.11.3", minute: 10), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-OTHER-RELEASE", release: "2026.11.2", minute: 10), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-TOO-LATE", release: "2026.11.3", minute: 50), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("TE-KIND", release: "2026.11.3", minute: 10, kind: PostingKind.TimeEntrySync), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-OTHER-TENANT", tenant: "globex", release: "2026.11.3", minute: 10), cancellationToken: ct);

        var scope = new ReconciliationScope(Harness.Start.AddMinutes(2), Harness.Start.AddMinutes(40), ["acme"], "2026.11.3", PostingKind.InvoiceExport);
        var plan = await h.Reconciler().PlanAsync(scope, ct);

        Assert.Equal("INV-IN", Assert.Single(plan.Items).BusinessKey);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_replay_that_crashes_resumes_after_its_checkpoint(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        for (var i = 1; i <= 5; i++)
        {
            await h.Journal.RecordAsync(Harness.Request($"INV-{i}"), cancellationToken: ct);
        }

        h.Erp.InjectFault("acme", "INV-3", ErpFault.CrashBeforeSend);
        var reconciler = h.Reconciler();
        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);

        await Assert.ThrowsAsync<InMemoryErpCrashException>(() => reconciler.ExecuteAsync(plan, "run-1", cancellationToken: ct));
        Assert.Equal(2, h.Erp.Snapshot().Count);
        h.Time.Advance(TimeSpan.FromMinutes(2)); // the crashed worker's tenant and posting leases expire
        var postsBefore = h.Erp.PostCount;
        var resumed = await reconciler.ExecuteAsync(plan, "run-1", cancellationToken: ct);

        Assert.Equal(2, resumed.ResumedPast);
        Assert.Equal(2, resumed.Replayed); // INV-4, INV-5
        Assert.Equal(1, resumed.Skipped); // INV-3 changed since the plan (its claim bumped the epoch)
        Assert.Equal(postsBefore + 2, h.Erp.PostCount);
        var next = await reconciler.PlanAsync(Harness.Scope(), ct);
        Assert.Equal(("INV-3", DiscrepancyClass.StaleInFlight), (Assert.Single(next.Items).BusinessKey, next.Items[0].Class));
        await reconciler.ExecuteAsync(next, "run-2", cancellationToken: ct);
        Assert.True((await reconciler.PlanAsync(Harness.Scope(), ct)).Items.Count == 0);
        Assert.Equal(5, h.Erp.Snapshot().Count);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_stale_worker_cannot_record_anything_after_another_took_over(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.Stall);
        var stale = h.Reconciler("stale").SendAsync(entry, ct);
        while (h.Erp.PostCount == 0)
        {
            await Task.Yield();
        }

        h.Time.Advance(TimeSpan.FromMinutes(2));
        var fresh = h.Reconciler("fresh");
        var result = await fresh.ExecuteAsync(await fresh.PlanAsync(Harness.Scope(), ct), "run-1", cancellationToken: ct);
        h.Erp.ReleaseStalled();

        Assert.Equal(1, result.Replayed);
        Assert.Equal(PostingOutcome.Fenced, await stale);
        var stored = await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-1", ct);
        Assert.Equal((PostingStatus.Acknowledged, 2L), (stored!.Status, stored.Epoch));
        Assert.Single(h.Erp.Snapshot());
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_worker_that_lost_its_lease_mid_batch_does_not_post_the_rest_of_the_batch(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-2"), cancellationToken: ct);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.Stall);
        var slow = h.Reconciler("slow", o => o.CheckpointInterval = 10);
        var slowRun = Task.Run(async () => await slow.ExecuteAsync(await slow.PlanAsync(Harness.Scope(), ct), "run-slow", cancellationToken: ct), ct);
        while (h.Erp.PostCount == 0)
        {
            await Task.Yield();
        }

        h.Time.Advance(TimeSpan.FromMinutes(2)); // the slow worker's leases (tenant and postings) expire
        var fresh = h.Reconciler("fresh");
        var taken = await fresh.ExecuteAsync(await fresh.PlanAsync(Harness.Scope(), ct), "run-fresh", cancellationToken: ct);
        var postsByFresh = h.Erp.PostCount;
        h.Erp.ReleaseStalled();
        var stale = await slowRun;

        Assert.Equal(2, taken.Replayed);
        Assert.Equal(postsByFresh, h.Erp.PostCount); // the stalled INV-1 post (already counted) completes; INV-2 is not sent again
        Assert.Equal((0, 2), (stale.Replayed, stale.Skipped));
        Assert.Equal(2, h.Erp.Snapshot().Count);
        Assert.True((await fresh.PlanAsync(Harness.Scope(), ct)).Items.Count == 0);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Two_workers_sharing_a_run_split_the_tenants_and_post_each_once(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var tenants = Enumerable.Range(0, 6).Select(i => $"tenant-{i}").ToArray();
        foreach (var tenant in tenants)
        {
            for (var i = 0; i < 3; i++)
            {
                await h.Journal.RecordAsync(Harness.Request($"INV-{i}", tenant: tenant), cancellationToken: ct);
            }
        }

        var scope = new ReconciliationScope(Harness.Start.AddDays(-1), Harness.Start.AddDays(1), tenants);
        var a = h.Reconciler("a");
        var b = h.Reconciler("b");
        var plan = await a.PlanAsync(scope, ct);

        var results = await Task.WhenAll(Task.Run(() => a.ExecuteAsync(plan, "run-1", cancellationToken: ct), ct), Task.Run(() => b.ExecuteAsync(plan, "run-1", cancellationToken: ct), ct));

        Assert.Equal(18, results.Sum(r => r.Replayed));
        Assert.Equal(0, results.Sum(r => r.Skipped));
        Assert.Equal(18, h.Erp.Snapshot().Count);
        Assert.Equal(18, h.Erp.PostCount);
        Assert.True((await a.PlanAsync(scope, ct)).Items.Count == 0);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_cancelled_posting_is_reversed_downstream_once_even_when_compensated_twice(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var reconciler = h.Reconciler();
        await reconciler.SendAsync(await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct), ct);
        Assert.True(await h.Journal.MarkCompensatedAsync("acme", PostingKind.InvoiceExport, "INV-1", "customer cancelled the order", ct));

        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);
        var first = await reconciler.ExecuteAsync(plan, "run-1", cancellationToken: ct);
        var again = await h.Reconciler("b").ExecuteAsync(plan, "run-2", cancellationToken: ct); // a stale copy of the plan

        var item = Assert.Single(plan.Items);
        Assert.Equal((DiscrepancyClass.CompensationOutstanding, ReconciliationAction.Compensate), (item.Class, item.Action));
        Assert.Contains("customer cancelled the order", item.Reason, StringComparison.Ordinal);
        Assert.Equal((1, 0, 1), (first.Compensated, again.Compensated, again.Skipped));
        var reversal = Assert.Single(h.Erp.Snapshot(), r => r.Reverses is not null);
        Assert.Equal(new Money(120.50m, "EUR"), reversal.Amount);
        Assert.True((await reconciler.PlanAsync(Harness.Scope(), ct)).Items.Count == 0);
    }

    [Fact]
    public async Task Progress_is_reported_after_every_item()
    {
        await using var h = await Harness.CreateAsync("sqlite");
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i < 4; i++)
        {
            await h.Journal.RecordAsync(Harness.Request($"INV-{i}"), cancellationToken: ct);
        }

        var reports = new List<ReplayProgress>();
        var reconciler = h.Reconciler();
        await reconciler.ExecuteAsync(await reconciler.PlanAsync(Harness.Scope(), ct), "run-1", new SynchronousProgress(reports.Add), ct);

        Assert.Equal([1, 2, 3, 4], reports.Select(r => r.Processed));
        Assert.All(reports, r => Assert.Equal((4, "acme"), (r.Total, r.CurrentTenantId)));
    }

    [Fact]
    public async Task The_rate_limit_lets_a_burst_through_then_one_post_per_interval()
    {
        var time = new FakeTimeProvider(Harness.Start);
        var bucket = new TokenBucket(2, 2, time);

        await bucket.AcquireAsync(TestContext.Current.CancellationToken);
        await bucket.AcquireAsync(TestContext.Current.CancellationToken);
        var third = bucket.AcquireAsync(TestContext.Current.CancellationToken).AsTask();

        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await third.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(third.IsCompletedSuccessfully);
    }

    private sealed class SynchronousProgress(Action<ReplayProgress> report) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value) => report(value);
    }
}
