using System.Runtime.CompilerServices;

namespace ReleaseKit.Reconciliation.Tests;

public sealed class DiffTests
{
    public static TheoryData<string> Databases => Harness.Databases;

    private static async Task<List<Discrepancy>> DiffAsync(Harness h, ReconciliationScope? scope = null, Reconciler? reconciler = null)
    {
        var found = new List<Discrepancy>();
        await foreach (var d in (reconciler ?? h.Reconciler()).DiffAsync(scope ?? Harness.Scope(), TestContext.Current.CancellationToken))
        {
            found.Add(d);
        }

        return found;
    }

    private static ErpRecord Record(JournalEntry e, string reference, string? key = null, Money? amount = null, string? fingerprint = null) =>
        new(e.TenantId, e.Kind, e.BusinessKey, key ?? e.IdempotencyKey, fingerprint ?? e.PayloadFingerprint, amount ?? e.Amount, e.OccurredAt, reference);

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Each_discrepancy_class_is_found_with_its_action(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        var reconciler = h.Reconciler();
        var matched = await h.Journal.RecordAsync(Harness.Request("INV-01"), cancellationToken: ct);
        await reconciler.SendAsync(matched, ct);
        await h.Journal.RecordAsync(Harness.Request("INV-02"), cancellationToken: ct); // never sent
        var duplicated = await h.Journal.RecordAsync(Harness.Request("INV-03"), cancellationToken: ct);
        h.Erp.InjectFault("acme", "INV-03", ErpFault.AcceptDuplicate);
        await reconciler.SendAsync(duplicated, ct);
        var amount = await h.Journal.RecordAsync(Harness.Request("INV-04"), cancellationToken: ct);
        h.Erp.Seed(Record(amount, "HAND-04", amount: new Money(999m, "EUR")));
        var payload = await h.Journal.RecordAsync(Harness.Request("INV-05"), cancellationToken: ct);
        h.Erp.Seed(Record(payload, "HAND-05", fingerprint: new string('0', 64)));
        var unacked = await h.Journal.RecordAsync(Harness.Request("INV-06"), cancellationToken: ct);
        h.Erp.InjectFault("acme", "INV-06", ErpFault.CrashAfterAccept);
        await Assert.ThrowsAsync<InMemoryErpCrashException>(() => reconciler.SendAsync(unacked, ct));
        var lost = await h.Journal.RecordAsync(Harness.Request("INV-07"), cancellationToken: ct);
        h.Erp.InjectFault("acme", "INV-07", ErpFault.CrashBeforeSend);
        await Assert.ThrowsAsync<InMemoryErpCrashException>(() => reconciler.SendAsync(lost, ct));
        var rejected = await h.Journal.RecordAsync(Harness.Request("INV-08"), cancellationToken: ct);
        h.Erp.InjectFault("acme", "INV-08", ErpFault.Reject);
        await reconciler.SendAsync(rejected, ct);
        h.Erp.Seed(new ErpRecord("acme", PostingKind.InvoiceExport, "INV-09", "by-hand", new string('1', 64), new Money(5m, "EUR"), Harness.Start.AddMinutes(9), "HAND-09"));
        var otherKey = await h.Journal.RecordAsync(Harness.Request("INV-10"), cancellationToken: ct);
        h.Erp.Seed(Record(otherKey, "HAND-10", key: "older-release-key"));
        h.Time.Advance(TimeSpan.FromMinutes(2)); // the crashed worker's leases expire

        var found = (await DiffAsync(h, reconciler: reconciler)).ToDictionary(d => d.BusinessKey);

        Assert.DoesNotContain("INV-01", found.Keys);
        Assert.Equal((DiscrepancyClass.MissingDownstream, ReconciliationAction.Replay), (found["INV-02"].Class, found["INV-02"].Action));
        Assert.Equal((DiscrepancyClass.DuplicateDownstream, ReconciliationAction.Compensate), (found["INV-03"].Class, found["INV-03"].Action));
        Assert.StartsWith("dup-", Assert.Single(found["INV-03"].ToReverse).IdempotencyKey, StringComparison.Ordinal);
        Assert.Equal((DiscrepancyClass.AmountMismatch, ReconciliationAction.Hold), (found["INV-04"].Class, found["INV-04"].Action));
        Assert.Contains("999 EUR", found["INV-04"].Reason, StringComparison.Ordinal);
        Assert.Equal((DiscrepancyClass.KeyReusedWithDifferentPayload, ReconciliationAction.Hold), (found["INV-05"].Class, found["INV-05"].Action));
        Assert.Equal((DiscrepancyClass.StaleInFlight, ReconciliationAction.Acknowledge), (found["INV-06"].Class, found["INV-06"].Action));
        Assert.Equal((DiscrepancyClass.StaleInFlight, ReconciliationAction.Replay), (found["INV-07"].Class, found["INV-07"].Action));
        Assert.Equal((DiscrepancyClass.Rejected, ReconciliationAction.Hold), (found["INV-08"].Class, found["INV-08"].Action));
        Assert.Equal((DiscrepancyClass.OrphanDownstream, ReconciliationAction.Hold), (found["INV-09"].Class, found["INV-09"].Action));
        Assert.Equal((DiscrepancyClass.FieldMismatch, ReconciliationAction.Hold), (found["INV-10"].Class, found["INV-10"].Action));
        Assert.Equal(9, found.Count);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_posting_in_flight_under_a_live_lease_is_left_to_its_owner(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.CrashBeforeSend);
        await Assert.ThrowsAsync<InMemoryErpCrashException>(() => h.Reconciler().SendAsync(entry, TestContext.Current.CancellationToken));

        Assert.Empty(await DiffAsync(h));
        h.Time.Advance(TimeSpan.FromMinutes(1.5));
        Assert.Equal(DiscrepancyClass.StaleInFlight, Assert.Single(await DiffAsync(h)).Class);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_journal_row_without_an_idempotency_key_is_held_with_its_reason(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        await h.ExecuteSqlAsync("UPDATE releasekit_posting_journal SET idempotency_key = '' WHERE business_key = 'INV-1'");

        var found = Assert.Single(await DiffAsync(h));

        Assert.Equal((DiscrepancyClass.InvalidJournalEntry, ReconciliationAction.Hold), (found.Class, found.Action));
        Assert.Contains("no idempotency key", found.Reason, StringComparison.Ordinal);
        Assert.Contains("acme/invoice-export/INV-1", found.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Keyset_paging_reads_every_journal_row_once_in_order(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var keys = Enumerable.Range(0, 11).Select(i => $"K{i % 3}-{i:D2}").ToList();
        foreach (var key in keys)
        {
            await h.Journal.RecordAsync(Harness.Request(key, kind: key.StartsWith("K1", StringComparison.Ordinal) ? PostingKind.TimeEntrySync : PostingKind.InvoiceExport), cancellationToken: TestContext.Current.CancellationToken);
        }

        var found = await DiffAsync(h);

        Assert.Equal(11, found.Count);
        Assert.All(found, d => Assert.Equal(DiscrepancyClass.MissingDownstream, d.Class));
        Assert.Equal(found.OrderBy(d => d.Kind, StringComparer.Ordinal).ThenBy(d => d.BusinessKey, StringComparer.Ordinal).Select(d => d.BusinessKey), found.Select(d => d.BusinessKey));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_scope_naming_no_tenants_also_diffs_the_tenants_the_erp_lists(string database)
    {
        await using var h = await Harness.CreateAsync(database);
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);

        // Posted by hand in the ERP for a tenant that never journaled anything.
        h.Erp.Seed(new ErpRecord("initech", PostingKind.InvoiceExport, "INV-BY-HAND", "hand-1", new string('1', 64), new Money(42m, "EUR"), Harness.Start.AddMinutes(3), "HAND-1"));
        var everyone = new ReconciliationScope(Harness.Start.AddDays(-1), Harness.Start.AddDays(1));

        var withDirectory = await h.Reconciler().PlanAsync(everyone, ct);
        var journalOnly = await new Reconciler(h.Journal, new ScriptedGateway([]), null, h.Time).PlanAsync(everyone, ct);

        var orphan = Assert.Single(withDirectory.Items, i => i.TenantId == "initech");
        Assert.Equal((DiscrepancyClass.OrphanDownstream, ReconciliationAction.Hold), (orphan.Class, orphan.Action));
        Assert.Contains(withDirectory.Items, i => i.TenantId == "acme" && i.BusinessKey == "INV-1");
        Assert.DoesNotContain(journalOnly.Items, i => i.TenantId == "initech"); // a gateway without a directory: journal tenants only
    }

    [Fact]
    public async Task A_gateway_returning_another_tenants_records_is_a_clear_error()
    {
        await using var h = await Harness.CreateAsync("sqlite");
        await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        var gateway = new ScriptedGateway([new ErpRecord("globex", PostingKind.InvoiceExport, "INV-1", "k", "f", new Money(1, "EUR"), Harness.Start, "G-1")]);

        var error = await Assert.ThrowsAsync<ErpGatewayException>(() => DiffAsync(h, reconciler: new Reconciler(h.Journal, gateway, null, h.Time)));

        Assert.Contains("tenant 'globex'", error.Message, StringComparison.Ordinal);
        Assert.Contains("while reading tenant 'acme'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_paging_out_of_order_or_repeating_a_record_is_a_clear_error()
    {
        await using var h = await Harness.CreateAsync("sqlite");
        ErpRecord R(string key, string reference) => new("acme", PostingKind.InvoiceExport, key, "k" + reference, "f", new Money(1, "EUR"), Harness.Start, reference);

        var outOfOrder = await Assert.ThrowsAsync<ErpGatewayException>(() => DiffAsync(h, reconciler: new Reconciler(h.Journal, new ScriptedGateway([R("B", "1"), R("A", "2")]), null, h.Time)));
        var repeated = await Assert.ThrowsAsync<ErpGatewayException>(() => DiffAsync(h, reconciler: new Reconciler(h.Journal, new ScriptedGateway([R("A", "1"), R("A", "1")]), null, h.Time)));
        var outOfRange = await Assert.ThrowsAsync<ErpGatewayException>(() => DiffAsync(h, reconciler: new Reconciler(h.Journal, new ScriptedGateway([R("A", "1") with { OccurredAt = Harness.Start.AddDays(3) }]), null, h.Time)));

        Assert.Contains("out of order", outOfOrder.Message, StringComparison.Ordinal);
        Assert.Contains("twice", repeated.Message, StringComparison.Ordinal);
        Assert.Contains("outside the requested range", outOfRange.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reversed_duplicates_and_their_reversals_no_longer_count_downstream()
    {
        await using var h = await Harness.CreateAsync("sqlite");
        var ct = TestContext.Current.CancellationToken;
        var reconciler = h.Reconciler();
        var entry = await h.Journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct);
        h.Erp.InjectFault("acme", "INV-1", ErpFault.AcceptDuplicate);
        await reconciler.SendAsync(entry, ct);

        var result = await reconciler.ExecuteAsync(await reconciler.PlanAsync(Harness.Scope(), ct), "run-1", cancellationToken: ct);

        Assert.Equal(1, result.Compensated);
        Assert.Equal(3, h.Erp.Snapshot().Count);
        Assert.Empty(await DiffAsync(h));
    }

    private sealed class ScriptedGateway(IReadOnlyList<ErpRecord> records) : IErpGateway
    {
        public ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken) => throw new NotSupportedException();

        public async IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var record in records)
            {
                await Task.Yield();
                yield return record;
            }
        }
    }
}
