using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Reconciliation.Tests;

public sealed class ReportAndGateTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    [Fact]
    public async Task The_report_counts_classes_sums_amounts_by_currency_and_lists_held_items()
    {
        await using var h = await Harness.CreateAsync("sqlite");
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("INV-1", 100.25m), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-2", 50m), cancellationToken: ct);
        await h.Journal.RecordAsync(Harness.Request("INV-3", 7000m, currency: "JPY"), cancellationToken: ct);
        h.Erp.Seed(new ErpRecord("acme", PostingKind.InvoiceExport, "INV-9", "hand", new string('a', 64), new Money(3m, "USD"), Harness.Start, "HAND-9"));

        var report = await h.Reconciler().ReportAsync(Harness.Scope(), ct);

        Assert.Equal(3, report.CountsByClass[DiscrepancyClass.MissingDownstream]);
        Assert.Equal(1, report.CountsByClass[DiscrepancyClass.OrphanDownstream]);
        Assert.Equal(150.25m, report.AmountsByCurrency["EUR"]);
        Assert.Equal(7000m, report.AmountsByCurrency["JPY"]);
        Assert.Equal(3m, report.AmountsByCurrency["USD"]);
        Assert.Equal("INV-9", Assert.Single(report.Held).BusinessKey);
        Assert.False(report.IsClean);
        var markdown = report.ToMarkdown();
        Assert.Contains("| MissingDownstream | 3 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| EUR | 150.25 |", markdown, StringComparison.Ordinal);
        Assert.Contains("`acme/invoice-export/INV-9` [OrphanDownstream]", markdown, StringComparison.Ordinal);
    }

    private ServiceProvider Services(FakeTimeProvider time, InMemoryErp erp, Action<ReconciliationOptions>? configure = null) =>
        ServicesWith(time, erp, configure);

    private ServiceProvider ServicesWith(FakeTimeProvider time, IErpGateway erp, Action<ReconciliationOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IErpGateway>(erp);
        var dataSource = Databases.Sqlite(_temp);
        services.AddReleaseKit()
            .AddReconciliation(_ => dataSource, configure)
            .AddReconciliation(_ => dataSource)
            .AddGates(g => g.AddReconciliationBacklogGate());
        return services.BuildServiceProvider();
    }

    private static async Task<GateReport> RunGatesAsync(IServiceProvider services)
    {
        var manifest = new ReleaseManifest { ReleaseId = "r-1", Version = "2026.11.3" };
        return await services.GetRequiredService<IReleaseGateRunner>().RunAsync(new GateRunRequest { Manifest = manifest, EnvironmentName = "production" }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task The_backlog_gate_fails_while_an_old_posting_is_unreconciled_and_passes_once_replayed()
    {
        var time = new FakeTimeProvider(Harness.Start);
        var erp = new InMemoryErp();
        await using var services = Services(time, erp, o => { o.BacklogBound = TimeSpan.FromMinutes(30); o.MaxPostsPerSecond = null; o.RetryDelay = TimeSpan.Zero; });
        var journal = services.GetRequiredService<PostingJournal>();
        await journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);

        var young = await RunGatesAsync(services);
        time.Advance(TimeSpan.FromMinutes(31));
        var old = await RunGatesAsync(services);
        var reconciler = services.GetRequiredService<Reconciler>();
        await reconciler.ExecuteAsync(await reconciler.PlanAsync(Harness.Scope(), TestContext.Current.CancellationToken), "run-1", cancellationToken: TestContext.Current.CancellationToken);
        var replayed = await RunGatesAsync(services);

        Assert.Equal(Verdict.Pass, young.Verdict);
        Assert.Equal(Verdict.Fail, old.Verdict);
        var entry = Assert.Single(old.Entries);
        Assert.Contains("1 pending", entry.Result.Reason, StringComparison.Ordinal);
        Assert.Contains(entry.Result.Evidence, e => e.Name == "pending_older_than_bound" && e.Observed == "1");
        Assert.Equal(Verdict.Pass, replayed.Verdict);
        Assert.Single(erp.Snapshot());
    }

    /// <summary>An ERP whose read side is down.</summary>
    private sealed class UnreadableErp(InMemoryErp inner) : IErpGateway
    {
        public ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken) => inner.PostAsync(posting, cancellationToken);

        public IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
            throw new ErpTransientException("ERP read API answered 503");
    }

    [Fact]
    public async Task With_an_erp_lookback_the_backlog_gate_fails_on_a_duplicate_the_journal_alone_cannot_show()
    {
        var time = new FakeTimeProvider(Harness.Start);
        var erp = new InMemoryErp();
        void Configure(ReconciliationOptions o)
        {
            o.BacklogBound = TimeSpan.FromMinutes(30);
            o.MaxPostsPerSecond = null;
            o.RetryDelay = TimeSpan.Zero;
        }

        await using var journalOnly = Services(time, erp, Configure);
        await using var compared = Services(time, erp, o => { Configure(o); o.BacklogErpLookback = TimeSpan.FromDays(1); });
        var ct = TestContext.Current.CancellationToken;
        var journal = compared.GetRequiredService<PostingJournal>();
        erp.InjectFault(Harness.Request("INV-1").TenantId, "INV-1", ErpFault.AcceptDuplicate);
        await compared.GetRequiredService<Reconciler>().SendAsync(await journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: ct), ct);
        time.Advance(TimeSpan.FromMinutes(40)); // the posting (dated minute 5) is now older than the 30-minute bound

        var withoutErp = await RunGatesAsync(journalOnly);
        var withErp = await RunGatesAsync(compared);

        Assert.Equal(Verdict.Pass, withoutErp.Verdict); // the journal says acknowledged
        Assert.Equal(Verdict.Fail, withErp.Verdict);
        var entry = Assert.Single(withErp.Entries);
        Assert.Contains("1 to compensate", entry.Result.Reason, StringComparison.Ordinal);
        Assert.Contains(entry.Result.Evidence, e => e.Name == "erp_DuplicateDownstream" && e.Observed == "1");
    }

    [Fact]
    public async Task With_an_erp_lookback_an_unreadable_erp_makes_the_backlog_gate_inconclusive()
    {
        var time = new FakeTimeProvider(Harness.Start);
        await using var services = Services(time, new InMemoryErp(), o => { o.BacklogBound = TimeSpan.FromMinutes(30); o.BacklogErpLookback = TimeSpan.FromDays(1); });
        var journal = services.GetRequiredService<PostingJournal>();
        await journal.RecordAsync(Harness.Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);
        await journal.EnsureCreatedAsync(TestContext.Current.CancellationToken);
        await using var unreadable = ServicesWith(time, new UnreadableErp(new InMemoryErp()), o => { o.BacklogBound = TimeSpan.FromMinutes(30); o.BacklogErpLookback = TimeSpan.FromDays(1); });

        var report = await RunGatesAsync(unreadable);

        var entry = Assert.Single(report.Entries);
        Assert.Equal(Verdict.Inconclusive, entry.Result.Verdict);
        Assert.Contains("ERP read API answered 503", entry.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adding_reconciliation_twice_registers_one_journal_and_one_validator()
    {
        await using var services = Services(new FakeTimeProvider(Harness.Start), new InMemoryErp());

        Assert.Same(services.GetRequiredService<PostingJournal>(), services.GetRequiredService<PostingJournal>());
        Assert.Single(services.GetServices<IValidateOptions<ReconciliationOptions>>());
        Assert.Single(services.GetServices<PostingJournal>());
    }

    [Fact]
    public async Task Invalid_options_fail_at_startup_naming_the_option_and_the_allowed_values()
    {
        await using var services = Services(new FakeTimeProvider(Harness.Start), new InMemoryErp(), o => { o.MaxRetryAttempts = 50; o.MaxPostsPerSecond = double.NaN; });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("MaxRetryAttempts is 50; allowed values are 0 to 20", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxPostsPerSecond is NaN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replayed_actions_are_counted_on_the_packages_meter()
    {
        await using var h = await Harness.CreateAsync("sqlite");
        var ct = TestContext.Current.CancellationToken;
        await h.Journal.RecordAsync(Harness.Request("INV-METER-1"), cancellationToken: ct);
        var counted = new List<(long Value, string? Action, string? Outcome)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ReleaseKit.Reconciliation" && instrument.Name == "releasekit.reconciliation.actions")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var all = tags.ToArray();
            string? Tag(string name) => all.FirstOrDefault(t => t.Key == name).Value as string;
            lock (counted)
            {
                counted.Add((value, Tag("releasekit.reconciliation.action"), Tag("releasekit.reconciliation.outcome")));
            }
        });
        listener.Start();

        var reconciler = h.Reconciler();
        await reconciler.ExecuteAsync(await reconciler.PlanAsync(Harness.Scope(), ct), "run-meter", cancellationToken: ct);

        lock (counted)
        {
            Assert.Contains((1L, "Replay", "Acknowledged"), counted);
        }
    }
}
