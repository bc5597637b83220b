using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;

namespace ReleaseKit.Reconciliation.Tests;

/// <summary>Run ids, cancellation, unexpected gateway errors, concurrent writers and reversals: what must never lose or repeat a posting.</summary>
public sealed class ReplaySafetyTests
{
    public static TheoryData<string> Databases => Harness.Databases;

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Planning_and_executing_again_under_the_same_run_id_settles(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        for (var i = 1; i <= 3; i++)
        {
            await h.Journal.RecordAsync(Harness.Request($"INV-{i}"), cancellationToken: ct);
        }

        h.Erp.InjectFault("acme", "INV-2", ErpFault.Transient); // deferred in the first round
        var reconciler = h.Reconciler(configure: o => o.MaxRetryAttempts = 0);

        var first = await reconciler.ExecuteAsync(await reconciler.PlanAsync(Harness.Scope(), ct), "rollback-2026.11.3", cancellationToken: ct);
        var again = await reconciler.PlanAsync(Harness.Scope(), ct);
        var second = await reconciler.ExecuteAsync(again, "rollback-2026.11.3", cancellationToken: ct);

        Assert.Equal((2, 1), (first.Replayed, first.Deferred));
        Assert.Equal("INV-2", Assert.Single(again.Items).BusinessKey);
        Assert.Equal((1, 0), (second.Replayed, second.ResumedPast));
        Assert.True((await reconciler.PlanAsync(Harness.Scope(), ct)).IsSettled);
        Assert.Equal(3, h.Erp.Snapshot().Count);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Plans_of_different_kinds_sharing_a_run_id_do_not_skip_each_others_items(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("TE-1", kind: PostingKind.TimeEntrySync), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-2"), cancellationToken: ct);
        var reconciler = h.Reconciler();

        // One run id, one plan per kind (as the command line does), the later kind first.
        var timeEntries = await reconciler.ExecuteAsync(await reconciler.PlanAsync(Harness.Scope(kind: PostingKind.TimeEntrySync), ct), "run-1", cancellationToken: ct);
        var invoices = await reconciler.ExecuteAsync(await reconciler.PlanAsync(Harness.Scope(kind: PostingKind.InvoiceExport), ct), "run-1", cancellationToken: ct);

        Assert.Equal((1, 0), (timeEntries.Replayed, timeEntries.ResumedPast));
        Assert.Equal((2, 0), (invoices.Replayed, invoices.ResumedPast));
        Assert.Equal(3, h.Erp.Snapshot().Count);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Cancelling_a_replay_mid_chunk_records_what_the_erp_accepted_and_releases_the_rest(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        for (var i = 1; i <= 5; i++)
        {
            await h.Journal.RecordAsync(Harness.Request($"INV-{i}"), cancellationToken: ct);
        }

        var reconciler = h.Reconciler(configure: o => o.CheckpointInterval = 10); // one chunk: all five claimed at once
        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progress = new SynchronousProgress(p =>
        {
            if (p.Processed == 2)
            {
                cts.Cancel(); // Ctrl-C after two accepted posts
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reconciler.ExecuteAsync(plan, "run-1", progress, cts.Token));

        var statuses = new List<PostingStatus>();
        for (var i = 1; i <= 5; i++)
        {
            statuses.Add((await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, $"INV-{i}", ct))!.Status);
        }

        Assert.Equal([PostingStatus.Acknowledged, PostingStatus.Acknowledged, PostingStatus.Pending, PostingStatus.Pending, PostingStatus.Pending], statuses);

        // Without waiting for any lease: the tenant is free and the rest is visible to the next plan.
        var next = await h.Reconciler("b").PlanAsync(Harness.Scope(), ct);
        Assert.Equal(["INV-3", "INV-4", "INV-5"], next.Items.Select(i => i.BusinessKey));
        var resumed = await h.Reconciler("b").ExecuteAsync(next, "run-1", cancellationToken: ct);
        Assert.Equal((3, 0), (resumed.Replayed, resumed.TenantsBusy.Count));
        Assert.True((await reconciler.PlanAsync(Harness.Scope(), ct)).Items.Count == 0);
        Assert.Equal(5, h.Erp.Snapshot().Count);
        Assert.Equal(5, h.Erp.PostCount);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_non_transient_gateway_exception_keeps_what_was_done_and_releases_the_tenant(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        for (var i = 1; i <= 5; i++)
        {
            await h.Journal.RecordAsync(Harness.Request($"INV-{i}"), cancellationToken: ct);
        }

        var gateway = new FailingGateway(h.Erp, "INV-3", new HttpRequestException("Connection reset by peer"));
        var reconciler = h.Reconciler(configure: o => o.CheckpointInterval = 10, gateway: gateway);

        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => reconciler.ExecuteAsync(plan, "run-1", cancellationToken: ct));

        Assert.Equal("Connection reset by peer", error.Message);
        var third = await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-3", ct);
        Assert.Equal(PostingStatus.Pending, third!.Status);
        Assert.Contains("HttpRequestException", third.LastError, StringComparison.Ordinal);
        Assert.Equal(PostingStatus.Acknowledged, (await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-2", ct))!.Status);
        Assert.Equal(PostingStatus.Pending, (await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-5", ct))!.Status);

        var next = await h.Reconciler("b").PlanAsync(Harness.Scope(), ct);
        var resumed = await h.Reconciler("b").ExecuteAsync(next, "run-1", cancellationToken: ct);
        Assert.Equal((3, 0), (resumed.Replayed, resumed.TenantsBusy.Count));
        Assert.Equal(5, h.Erp.Snapshot().Count);
        Assert.Equal(5, h.Erp.PostCount); // the failed call never reached the ERP; nothing was posted twice
    }

    [Fact]
    public async Task Journaling_inside_the_applications_transaction_does_not_wait_for_other_writers()
    {
        await using var h = await Harness.CreateAsync("postgres");
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.EnsureCreatedAsync(ct);

        // Another process's business transaction has journaled a posting and not committed yet.
        await using var other = await h.DataSource.OpenConnectionAsync(ct);
        await using var otherTransaction = await other.BeginTransactionAsync(ct);
        await new PostingJournal(h.DataSource, h.Time).RecordAsync(Harness.Request("INV-OTHER"), otherTransaction, ct);

        // This process starts: its journal has not created anything yet, and its first write is inside the app's transaction.
        var journal = new PostingJournal(h.DataSource, h.Time);
        await using var app = await h.DataSource.OpenConnectionAsync(ct);
        await using var appTransaction = await app.BeginTransactionAsync(ct);
        await using (var command = app.CreateCommand())
        {
            command.Transaction = appTransaction;
            command.CommandText = "SET LOCAL lock_timeout = '5s'";
            await command.ExecuteNonQueryAsync(ct);
        }

        var recorded = await journal.RecordAsync(Harness.Request("INV-APP"), appTransaction, ct);
        await appTransaction.CommitAsync(ct);
        await otherTransaction.CommitAsync(ct);

        Assert.Equal(recorded, await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-APP", ct));
        Assert.NotNull(await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-OTHER", ct));
    }

    [Fact]
    public async Task Journaling_inside_the_applications_transaction_on_a_new_postgresql_database_creates_the_tables_outside_it()
    {
        await using var h = await Harness.CreateAsync("postgres");
        var ct = TestContext.Current.CancellationToken;
        await using (var app = await h.DataSource.OpenConnectionAsync(ct))
        {
            await using var rolledBack = await app.BeginTransactionAsync(ct);
            await h.Journal.RecordAsync(Harness.Request("INV-ROLLED-BACK"), rolledBack, ct);
            await rolledBack.RollbackAsync(ct);
        }

        // The tables outlive the rolled-back business transaction, so a second journal finds them ready.
        await using var check = await h.DataSource.OpenConnectionAsync(ct);
        await using var command = check.CreateCommand();
        command.CommandText = "SELECT to_regclass('releasekit_posting_journal') IS NOT NULL";
        Assert.Equal(true, await command.ExecuteScalarAsync(ct));
        Assert.Null(await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-ROLLED-BACK", ct));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Copies_sharing_an_idempotency_key_are_each_reversed(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var reconciler = h.Reconciler();
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);
        await reconciler.SendAsync(entry, ct);
        var original = Assert.Single(h.Erp.Snapshot());
        h.Erp.Seed(original with { ErpReference = "ERP-COPY-2" }); // an ERP that does not deduplicate holds a second copy under the same key
        Assert.True(await h.Journal.MarkCompensatedAsync("acme", PostingKind.InvoiceExport, "INV-1", "order cancelled", ct));

        var plan = await reconciler.PlanAsync(Harness.Scope(), ct);
        var result = await reconciler.ExecuteAsync(plan, "run-1", cancellationToken: ct);

        Assert.Equal(2, Assert.Single(plan.Items).ToReverse.Count);
        Assert.Equal(2, result.Compensated);
        var reversals = h.Erp.Snapshot().Where(r => r.Reverses is not null).ToList();
        Assert.Equal([original.ErpReference, "ERP-COPY-2"], reversals.Select(r => r.Reverses).Order(StringComparer.Ordinal));
        Assert.Equal(2, reversals.Select(r => r.IdempotencyKey).Distinct(StringComparer.Ordinal).Count());
        Assert.True((await reconciler.PlanAsync(Harness.Scope(), ct)).Items.Count == 0);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_post_that_waited_for_the_rate_limit_past_its_lease_is_not_sent(string database)
    {
        var time = new TimerSignallingTimeProvider(Harness.Start);
        await using var h = await Harness.CreateAsync(database, time);
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-2"), cancellationToken: ct);
        var slow = h.Reconciler("slow", o =>
        {
            o.CheckpointInterval = 10;
            o.MaxPostsPerSecond = 1.0 / 600; // one post per ten minutes: INV-2 waits far beyond its one-minute lease
            o.Burst = 1;
        });
        var plan = await slow.PlanAsync(Harness.Scope(), ct);

        var run = Task.Run(() => slow.ExecuteAsync(plan, "run-1", cancellationToken: ct), ct);
        await time.LongTimerCreated.WaitAsync(ct); // INV-1 is posted; INV-2 waits for a token
        time.Advance(TimeSpan.FromMinutes(11));
        var result = await run;

        Assert.Equal((1, 1), (result.Replayed, result.Skipped));
        Assert.Equal(1, h.Erp.PostCount);
        var next = await h.Reconciler("fresh").PlanAsync(Harness.Scope(), ct);
        Assert.Equal(("INV-2", DiscrepancyClass.StaleInFlight), (Assert.Single(next.Items).BusinessKey, next.Items[0].Class));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_posting_journaled_and_sent_while_the_diff_reads_is_not_an_orphan(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var app = h.Reconciler("app");
        foreach (var key in new[] { "INV-1", "INV-2", "INV-3" })
        {
            await app.SendAsync(await h.Journal.RecordAsync(Harness.Request(key), cancellationToken: ct), ct);
        }

        // While the reconciliation reads, the application journals and sends INV-2a (between INV-2 and INV-3).
        var gateway = new ConcurrentWriteGateway(h.Erp, async () => await app.SendAsync(await h.Journal.RecordAsync(Harness.Request("INV-2a"), cancellationToken: ct), ct));
        var plan = await h.Reconciler("reconciler", gateway: gateway).PlanAsync(Harness.Scope(), ct);

        Assert.True(gateway.Fired);
        Assert.DoesNotContain(plan.Items, i => i.Class == DiscrepancyClass.OrphanDownstream);
        Assert.Empty(plan.Items);
    }

    private sealed class SynchronousProgress(Action<ReplayProgress> report) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value) => report(value);
    }

    /// <summary>Throws an exception the reconciler does not treat as transient on the first post of one business key.</summary>
    private sealed class FailingGateway(IErpGateway inner, string businessKey, Exception error) : IErpGateway
    {
        private int _armed = 1;

        public ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken) =>
            posting.BusinessKey == businessKey && Interlocked.Exchange(ref _armed, 0) == 1 ? throw error : inner.PostAsync(posting, cancellationToken);

        public IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
            inner.ReadAsync(tenantId, from, to, cancellationToken);
    }

    /// <summary>Reads the in-memory ERP page by page and runs <c>write</c> after the first record, as a live system would change under a read.</summary>
    private sealed class ConcurrentWriteGateway(InMemoryErp inner, Func<Task> write) : IErpGateway
    {
        public bool Fired { get; private set; }

        public ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken) => inner.PostAsync(posting, cancellationToken);

        public async IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var before = inner.Snapshot(tenantId).Where(r => r.OccurredAt >= from && r.OccurredAt < to).ToList();
            if (before.Count == 0)
            {
                yield break;
            }

            yield return before[0];
            await write();
            Fired = true;
            foreach (var record in inner.Snapshot(tenantId).Where(r => r.OccurredAt >= from && r.OccurredAt < to).SkipWhile(r => r.ErpReference != before[0].ErpReference).Skip(1))
            {
                yield return record;
            }
        }
    }

    /// <summary>A fake clock that tells when someone starts waiting a minute or more on it (the rate limiter).</summary>
    private sealed class TimerSignallingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task LongTimerCreated => _created.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime >= TimeSpan.FromMinutes(1))
            {
                _created.TrySetResult();
            }

            return timer;
        }
    }
}
