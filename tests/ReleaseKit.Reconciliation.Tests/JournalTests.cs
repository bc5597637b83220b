namespace ReleaseKit.Reconciliation.Tests;

public sealed class JournalTests
{
    public static TheoryData<string> Databases => Harness.Databases;

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_posting_is_journaled_pending_with_its_idempotency_key_before_any_attempt(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);

        var found = await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-1", TestContext.Current.CancellationToken);

        Assert.Equal(entry, found);
        Assert.Equal(PostingStatus.Pending, found!.Status);
        Assert.StartsWith("rk-", found.IdempotencyKey, StringComparison.Ordinal);
        Assert.Equal(0, found.Attempts);
        Assert.Equal(new Money(120.50m, "EUR"), found.Amount);
        Assert.Equal(64, found.PayloadFingerprint.Length);
        Assert.Equal(h.Time.GetUtcNow(), found.CreatedAt);
        Assert.Equal(0, h.Erp.PostCount);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Journaling_the_same_posting_again_returns_the_first_key_and_another_payload_is_refused(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var first = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);

        var again = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Journal.RecordAsync(Harness.Request("INV-1", amount: 99m), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(first.IdempotencyKey, again.IdempotencyKey);
        Assert.Contains("INV-1", error.Message, StringComparison.Ordinal);
        Assert.Contains("already journaled", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task The_journal_write_joins_the_applications_transaction_and_rolls_back_with_it(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        await using (var connection = await h.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken))
        {
            await using var rolledBack = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
            await h.Journal.RecordAsync(Harness.Request("INV-ROLLED-BACK"), rolledBack, TestContext.Current.CancellationToken);
            await rolledBack.RollbackAsync(TestContext.Current.CancellationToken);

            await using var committed = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
            await h.Journal.RecordAsync(Harness.Request("INV-COMMITTED"), committed, TestContext.Current.CancellationToken);
            await committed.CommitAsync(TestContext.Current.CancellationToken);
        }

        Assert.Null(await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-ROLLED-BACK", TestContext.Current.CancellationToken));
        Assert.NotNull(await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-COMMITTED", TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Every_retry_sends_the_key_stored_before_the_first_attempt(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.Transient);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.TimeoutAfterAccept);

        var outcome = await h.Reconciler().SendAsync(entry, TestContext.Current.CancellationToken);

        Assert.Equal(PostingOutcome.Acknowledged, outcome);
        Assert.Equal(3, h.Erp.PostCount);
        var held = Assert.Single(h.Erp.Snapshot("acme"));
        Assert.Equal(entry.IdempotencyKey, held.IdempotencyKey);
        var stored = await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-1", TestContext.Current.CancellationToken);
        Assert.Equal(PostingStatus.Acknowledged, stored!.Status);
        Assert.Equal(held.ErpReference, stored.ErpReference);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal(1, stored.Epoch);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_definite_rejection_is_never_retried_and_marks_the_posting_failed(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.Reject);

        var outcome = await h.Reconciler(configure: o => o.MaxRetryAttempts = 5).SendAsync(entry, TestContext.Current.CancellationToken);

        Assert.Equal(PostingOutcome.Rejected, outcome);
        Assert.Equal(1, h.Erp.PostCount);
        var stored = await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-1", TestContext.Current.CancellationToken);
        Assert.Equal(PostingStatus.Failed, stored!.Status);
        Assert.Contains("period closed", stored.LastError, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Transient_failures_beyond_the_retries_leave_the_posting_pending_for_the_next_run(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        for (var i = 0; i < 3; i++)
        {
            h.Erp.InjectFault("acme", "INV-1", ErpFault.Transient);
        }

        var outcome = await h.Reconciler(configure: o => o.MaxRetryAttempts = 2).SendAsync(entry, TestContext.Current.CancellationToken);

        Assert.Equal(PostingOutcome.Deferred, outcome);
        Assert.Equal(3, h.Erp.PostCount);
        Assert.Equal(PostingStatus.Pending, (await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-1", TestContext.Current.CancellationToken))!.Status);
        Assert.Empty(h.Erp.Snapshot());
    }

    [Fact]
    public async Task With_no_retries_a_timeout_is_tried_once_and_left_pending()
    {
        await using var h = await Harness.CreateAsync("sqlite");
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.CrashBeforeSend);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.TimeoutAfterAccept);
        await Assert.ThrowsAsync<InMemoryErpCrashException>(() => h.Reconciler(configure: o => o.MaxRetryAttempts = 0).SendAsync(entry, TestContext.Current.CancellationToken));
        h.Time.Advance(TimeSpan.FromMinutes(2));
        var current = await h.Journal.FindAsync("acme", PostingKind.InvoiceExport, "INV-1", TestContext.Current.CancellationToken);

        var outcome = await h.Reconciler(configure: o => o.MaxRetryAttempts = 0).SendAsync(current!, TestContext.Current.CancellationToken);

        Assert.Equal(PostingOutcome.Deferred, outcome);
        Assert.Equal(2, h.Erp.PostCount);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Two_workers_sending_the_same_posting_claim_it_once(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);

        var outcomes = await Task.WhenAll(h.Reconciler("a").SendAsync(entry, TestContext.Current.CancellationToken), h.Reconciler("b").SendAsync(entry, TestContext.Current.CancellationToken));

        Assert.Equal([PostingOutcome.Acknowledged, PostingOutcome.Skipped], outcomes.Order());
        Assert.Single(h.Erp.Snapshot());
    }
}
