using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Reconciliation;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

public sealed class ReconcileCommandTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    /// <summary>The app with reconciliation on a real SQLite journal and an in-memory ERP.</summary>
    private sealed class ReconcileApp : IAsyncDisposable
    {
        private readonly TempDirectory _dbDirectory = new();

        public ReconcileApp()
        {
            DataSource = Databases.Sqlite(_dbDirectory, "journal.db");
            App = new TestApp((services, releaseKit) =>
            {
                services.AddSingleton<TimeProvider>(Time);
                services.AddSingleton<IErpGateway>(Erp);
                releaseKit.AddReconciliation(_ => DataSource, o => { o.RetryDelay = TimeSpan.Zero; o.MaxPostsPerSecond = null; });
                releaseKit.AddGates(g => g.AddGate("erp-reachable", _ => Gates.GateResult.Pass()));
            });
        }

        public FakeTimeProvider Time { get; } = new(Start.AddHours(1));

        public InMemoryErp Erp { get; } = new();

        public DbDataSource DataSource { get; }

        public TestApp App { get; }

        public PostingJournal Journal => App.Services.GetRequiredService<PostingJournal>();

        public Reconciler Reconciler => App.Services.GetRequiredService<Reconciler>();

        /// <summary>INV-1 journaled but never sent (missing downstream); INV-2 sent and accepted twice (a duplicate downstream).</summary>
        public async Task HalfProcessedReleaseAsync()
        {
            var ct = TestContext.Current.CancellationToken;
            await Journal.RecordAsync(Request("INV-1"), cancellationToken: ct);
            Erp.InjectFault("acme", "INV-2", ErpFault.AcceptDuplicate);
            await Reconciler.SendAsync(await Journal.RecordAsync(Request("INV-2"), cancellationToken: ct), ct);
        }

        public async Task<string> JournalRowsAsync()
        {
            await using var connection = await DataSource.OpenConnectionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT * FROM releasekit_posting_journal ORDER BY 1";
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }

            return string.Join('\n', rows);
        }

        public async ValueTask DisposeAsync()
        {
            App.Dispose();
            SqliteConnection.ClearAllPools();
            await DataSource.DisposeAsync();
            _dbDirectory.Dispose();
        }
    }

    private static PostingRequest Request(string businessKey, string release = "2026.11.3") =>
        new("acme", PostingKind.InvoiceExport, businessKey, new Money(120.50m, "EUR"), $"{{\"invoice\":\"{businessKey}\"}}", release, Start.AddMinutes(5));

    private static readonly string[] Range = ["--from", "2026-11-27", "--to", "2026-11-28T00:00:00Z"];

    [Fact]
    public async Task A_dry_run_prints_the_plan_and_changes_neither_the_journal_nor_the_erp()
    {
        await using var app = new ReconcileApp();
        await app.HalfProcessedReleaseAsync();
        var journalBefore = await app.JournalRowsAsync();
        var erpBefore = app.Erp.Snapshot();
        var postsBefore = app.Erp.PostCount;

        var run = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", .. Range, "--dry-run"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("By action: 1 replay, 1 compensate, 0 acknowledge, 0 hold", run.Output);
        Assert.Contains("By class:  1 MissingDownstream, 1 DuplicateDownstream", run.Output);
        Assert.Contains("Dry run: nothing was changed.", run.Output);
        Assert.Equal(journalBefore, await app.JournalRowsAsync());
        Assert.Equal(erpBefore, app.Erp.Snapshot());
        Assert.Equal(postsBefore, app.Erp.PostCount);
    }

    [Fact]
    public async Task A_run_replays_the_missing_posting_and_compensates_the_duplicate_once_and_a_second_run_has_nothing_to_do()
    {
        await using var app = new ReconcileApp();
        await app.HalfProcessedReleaseAsync();

        var first = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", .. Range]);
        var postsAfterFirst = app.Erp.PostCount;
        var second = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", .. Range]);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("progress: 100% (2/2)", first.Output);
        Assert.Contains("replayed 1, acknowledged 0, compensated 1", first.Output);
        Assert.Contains("Done: the journal and the ERP agree.", first.Output);
        var records = app.Erp.Snapshot();
        Assert.Single(records, r => r.BusinessKey == "INV-1");
        Assert.Single(records, r => r.Reverses is not null);
        Assert.Equal(2, records.Count(r => r.BusinessKey == "INV-2" && r.Reverses is null));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("Nothing to do: the journal and the ERP agree.", second.Output);
        Assert.Equal(postsAfterFirst, app.Erp.PostCount);
    }

    [Fact]
    public async Task Items_held_for_a_person_exit_1_with_the_reason_in_json()
    {
        await using var app = new ReconcileApp();
        app.Erp.Seed(new ErpRecord("acme", PostingKind.InvoiceExport, "INV-BY-HAND", "hand-1", "fp", new Money(99m, "EUR"), Start.AddMinutes(7), "ERP-HAND-1"));

        var run = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", .. Range, "--tenant", "acme", "--format", "json"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(run.Output);
        Assert.Equal(1, json.RootElement.GetProperty("plan").GetProperty("byAction").GetProperty("hold").GetInt32());
        var held = Assert.Single(json.RootElement.GetProperty("remaining").EnumerateArray());
        Assert.Equal(("hold", "OrphanDownstream"), (held.GetProperty("action").GetString(), held.GetProperty("class").GetString()));
        Assert.Equal("fail", json.RootElement.GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task Check_with_reconcile_since_adds_a_dry_run_reconciliation_summary_to_the_html_report()
    {
        await using var app = new ReconcileApp();
        await app.HalfProcessedReleaseAsync();
        var journalBefore = await app.JournalRowsAsync();
        var postsBefore = app.Erp.PostCount;
        var outDir = app.App.Directory.File("reports");

        var run = await app.App.RunAsync("check", "--manifest", app.App.ManifestPath, "--format", "html", "--out", outDir, "--reconcile-since", "24h");

        Assert.True(run.ExitCode == 0, run.ToString()); // the summary informs; the gates decide the exit code
        var html = File.ReadAllText(Path.Combine(outDir, "releasekit-check.html"));
        Assert.Contains("<section id=\"reconciliation\">", html);
        Assert.Contains("<tr data-class=\"MissingDownstream\">", html);
        Assert.Contains("<tr data-class=\"DuplicateDownstream\">", html);
        Assert.Contains("data-action=\"Replay\"><b>1</b>", html);
        Assert.Contains("data-action=\"Compensate\"><b>1</b>", html);
        Assert.Equal(journalBefore, await app.JournalRowsAsync());
        Assert.Equal(postsBefore, app.Erp.PostCount);
    }

    [Fact]
    public async Task Reconcile_since_without_the_html_format_or_without_reconciliation_exits_2()
    {
        await using var app = new ReconcileApp();
        using var bare = TestApp.WithGates(g => g.AddGate("ok", _ => Gates.GateResult.Pass()));

        var text = await app.App.RunAsync("check", "--manifest", app.App.ManifestPath, "--reconcile-since", "24h");
        var notRegistered = await bare.RunAsync("check", "--manifest", bare.ManifestPath, "--format", "html", "--reconcile-since", "24h");
        var negative = await app.App.RunAsync("check", "--manifest", app.App.ManifestPath, "--format", "html", "--reconcile-since", "-1h");

        Assert.True(text.ExitCode == 2, text.ToString());
        Assert.Contains("add --format html", text.Error);
        Assert.True(notRegistered.ExitCode == 2, notRegistered.ToString());
        Assert.Contains("AddReconciliation", notRegistered.Error);
        Assert.True(negative.ExitCode == 2, negative.ToString());
        Assert.Contains("--reconcile-since '-1h' is not a positive duration", negative.Error);
    }

    /// <summary>An ERP whose read API goes away after the first read.</summary>
    private sealed class ReadOnceErp(InMemoryErp inner) : IErpGateway
    {
        private int _reads;

        public ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken) => inner.PostAsync(posting, cancellationToken);

        public IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _reads) == 1 ? inner.ReadAsync(tenantId, from, to, cancellationToken) : throw new ErpTransientException("ERP read API answered 503");
    }

    [Fact]
    public async Task An_erp_that_goes_away_mid_run_exits_1_with_what_to_do_and_keeps_what_was_done()
    {
        using var dbDirectory = new TempDirectory();
        await using var dataSource = Databases.Sqlite(dbDirectory, "journal.db");
        var erp = new InMemoryErp();
        var time = new FakeTimeProvider(Start.AddHours(1));
        using var app = new TestApp((services, releaseKit) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton<IErpGateway>(new ReadOnceErp(erp));
            releaseKit.AddReconciliation(_ => dataSource, o => { o.RetryDelay = TimeSpan.Zero; o.MaxPostsPerSecond = null; });
        });
        await app.Services.GetRequiredService<PostingJournal>().RecordAsync(Request("INV-1"), cancellationToken: TestContext.Current.CancellationToken);

        var run = await app.RunAsync(["reconcile", "--release", "2026.11.3", .. Range, "--tenant", "acme"]);
        SqliteConnection.ClearAllPools();

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("the reconciliation stopped: ERP read API answered 503", run.Error);
        Assert.Contains("run the same command again", run.Error);
        Assert.Single(erp.Snapshot(), r => r.BusinessKey == "INV-1"); // the replay that happened stays done
        var entry = await app.Services.GetRequiredService<PostingJournal>().FindAsync("acme", PostingKind.InvoiceExport, "INV-1", TestContext.Current.CancellationToken);
        Assert.Equal(PostingStatus.Acknowledged, entry!.Status);
    }

    [Theory]
    [InlineData("--from", "27/11/2026", "--from '27/11/2026' is not a point in time; accepted formats: an ISO 8601 date-time with an offset")]
    [InlineData("--to", "2026-11-28T00:00:00", "--to '2026-11-28T00:00:00' is not a point in time")]
    public async Task An_unparseable_time_exits_2_with_the_accepted_formats(string option, string value, string message)
    {
        await using var app = new ReconcileApp();

        var run = await app.App.RunAsync("reconcile", "--release", "2026.11.3", option, value);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.Error);
    }

    [Fact]
    public async Task From_after_to_exits_2()
    {
        await using var app = new ReconcileApp();

        var run = await app.App.RunAsync("reconcile", "--release", "2026.11.3", "--from", "2026-11-28", "--to", "2026-11-27");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("is not before --to", run.Error);
    }

    [Fact]
    public async Task Reconcile_without_release_or_without_reconciliation_registered_exits_2()
    {
        await using var app = new ReconcileApp();
        using var bare = TestApp.WithGates(g => g.AddGate("ok", _ => Gates.GateResult.Pass()));

        var noRelease = await app.App.RunAsync("reconcile");
        var notRegistered = await bare.RunAsync("reconcile", "--release", "2026.11.3");

        Assert.True(noRelease.ExitCode == 2, noRelease.ToString());
        Assert.Contains("--release", noRelease.Error);
        Assert.True(notRegistered.ExitCode == 2, notRegistered.ToString());
        Assert.Contains("AddReconciliation", notRegistered.Error);
    }

    [Fact]
    public async Task An_unreadable_journal_exits_2_and_says_where_to_look()
    {
        using var missing = new TempDirectory();
        using var app = new TestApp((services, releaseKit) =>
        {
            services.AddSingleton<IErpGateway>(new InMemoryErp());
            releaseKit.AddReconciliation(_ => SqliteFactory.Instance.CreateDataSource($"Data Source={missing.File("no-such-folder/journal.db")};Mode=ReadOnly"));
        });

        var run = await app.RunAsync(["reconcile", "--release", "2026.11.3", .. Range]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("Cannot read the posting journal", run.Error);
        Assert.Contains("AddReconciliation", run.Error);
    }

    private static readonly string[] Accept =
        ["reconcile", "accept", "--release", "2026.11.3", "--tenant", "acme", "--kind", "invoice-export", "--from", "2026-11-27", "--to", "2026-11-28T00:00:00Z"];

    private static ErpRecord ByHand(string reference = "ERP-HAND-1") =>
        new("acme", PostingKind.InvoiceExport, "INV-BY-HAND", "hand-" + reference, "fp", new Money(99m, "EUR"), Start.AddMinutes(7), reference);

    [Fact]
    public async Task Accept_records_the_decision_and_later_runs_list_the_item_as_decided_and_exit_0()
    {
        await using var app = new ReconcileApp();
        app.Erp.Seed(ByHand());

        var before = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", "--tenant", "acme", .. Range]);
        var accept = await app.App.RunAsync([.. Accept, "--key", "INV-BY-HAND", "--by", "maria.keller", "--reason", "Credit note posted by hand, agreed with the client."]);
        var again = await app.App.RunAsync([.. Accept, "--key", "INV-BY-HAND", "--by", "someone.else", "--reason", "Same."]);
        var after = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", "--tenant", "acme", .. Range]);
        var json = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", "--tenant", "acme", .. Range, "--format", "json", "--dry-run"]);

        Assert.True(before.ExitCode == 1, before.ToString());
        Assert.Contains("releasekit reconcile accept --release 2026.11.3", before.Output);
        Assert.True(accept.ExitCode == 0, accept.ToString());
        Assert.Contains("Accepted as is: acme/invoice-export/INV-BY-HAND [OrphanDownstream]", accept.Output);
        Assert.Contains("Decided by maria.keller at 2026-11-27T15:00:00.0000000+00:00: Credit note posted by hand", accept.Output);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("is already accepted as is by maria.keller", again.Output);
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Contains("tenants acme, kinds all: 0 item(s), 1 decided by a person", after.Output);
        Assert.Contains("DECIDED     acme/invoice-export/INV-BY-HAND [OrphanDownstream] - accepted as is by maria.keller", after.Output);
        Assert.Contains("Nothing to do: the journal and the ERP agree, apart from 1 difference(s) a person accepted.", after.Output);
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = System.Text.Json.JsonDocument.Parse(json.Output);
        var decided = Assert.Single(document.RootElement.GetProperty("plan").GetProperty("decided").EnumerateArray());
        Assert.Equal(("INV-BY-HAND", "maria.keller"), (decided.GetProperty("businessKey").GetString(), decided.GetProperty("decidedBy").GetString()));
        Assert.Equal("pass", document.RootElement.GetProperty("verdict").GetString());
        Assert.Single(await app.Reconciler.ListDecisionsAsync("acme", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task The_html_report_lists_an_accepted_item_with_who_and_why_apart_from_the_held_ones()
    {
        await using var app = new ReconcileApp();
        app.Erp.Seed(ByHand());
        await app.HalfProcessedReleaseAsync(); // journal rows, so the tenant is in a scope that names no tenants
        var accept = await app.App.RunAsync([.. Accept, "--key", "INV-BY-HAND", "--by", "maria.keller", "--reason", "Credit note posted by hand."]);
        var outDir = app.App.Directory.File("reports");

        var run = await app.App.RunAsync("check", "--manifest", app.App.ManifestPath, "--format", "html", "--out", outDir, "--reconcile-since", "24h");

        Assert.True(accept.ExitCode == 0, accept.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        var html = File.ReadAllText(Path.Combine(outDir, "releasekit-check.html"));
        Assert.Contains("<tr data-decided=\"INV-BY-HAND\">", html);
        Assert.Contains("maria.keller", html);
        Assert.Contains("Credit note posted by hand.", html);
        Assert.Contains("data-action=\"Hold\"><b>0</b>", html); // accepted, so not held
        Assert.Contains("data-action=\"Replay\"><b>1</b>", html);
    }

    [Fact]
    public async Task A_changed_discrepancy_is_held_again_after_accept_and_the_run_says_the_decision_no_longer_matches()
    {
        await using var app = new ReconcileApp();
        app.Erp.Seed(ByHand());
        var accept = await app.App.RunAsync([.. Accept, "--key", "INV-BY-HAND", "--by", "maria.keller", "--reason", "Posted by hand on purpose."]);
        app.Erp.Seed(ByHand("ERP-HAND-2"));

        var run = await app.App.RunAsync(["reconcile", "--release", "2026.11.3", "--tenant", "acme", .. Range]);

        Assert.True(accept.ExitCode == 0, accept.ToString());
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("HOLD        acme/invoice-export/INV-BY-HAND [OrphanDownstream]", run.Output);
        Assert.Contains("A previous decision no longer matches: maria.keller accepted it as is", run.Output);
    }

    [Fact]
    public async Task Accept_exits_2_for_an_item_that_is_not_held_or_not_in_the_plan_and_lists_what_is_held()
    {
        await using var app = new ReconcileApp();
        await app.HalfProcessedReleaseAsync();
        app.Erp.Seed(ByHand());

        var notHeld = await app.App.RunAsync([.. Accept, "--key", "INV-1", "--by", "maria.keller", "--reason", "Fine."]);
        var unknown = await app.App.RunAsync([.. Accept, "--key", "INV-404", "--by", "maria.keller", "--reason", "Fine."]);

        Assert.True(notHeld.ExitCode == 2, notHeld.ToString());
        Assert.Contains("acme/invoice-export/INV-1 [MissingDownstream] is not held: the plan will replay it by itself", notHeld.Error);
        Assert.Contains("Held for tenant 'acme' (1): --kind invoice-export --key INV-BY-HAND [OrphanDownstream]", notHeld.Error);
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("acme/invoice-export/INV-404 is not in the plan for release 2026.11.3", unknown.Error);
        Assert.Contains("--key INV-BY-HAND [OrphanDownstream]", unknown.Error);
        Assert.Empty(await app.Reconciler.ListDecisionsAsync(cancellationToken: TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("--reason", "   ", "--reason is blank")]
    [InlineData("--by", "", "--by is blank")]
    [InlineData("--kind", "not a kind", "--kind 'not a kind'")]
    public async Task Accept_with_a_blank_or_invalid_option_exits_2_and_records_nothing(string option, string value, string message)
    {
        await using var app = new ReconcileApp();
        app.Erp.Seed(ByHand());
        string[] good = ["--key", "INV-BY-HAND", "--by", "maria.keller", "--reason", "Posted by hand on purpose."];
        var arguments = Accept.Concat(good).ToList();
        var at = arguments.LastIndexOf(option);
        if (at >= 0)
        {
            arguments[at + 1] = value;
        }

        var run = await app.App.RunAsync([.. arguments]);
        var missing = await app.App.RunAsync([.. Accept, "--key", "INV-BY-HAND", "--reason", "No one said who."]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.Error);
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Contains("--by", missing.Error);
        Assert.Empty(await app.Reconciler.ListDecisionsAsync(cancellationToken: TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("2026-11-27", "2026-11-27T00:00:00.0000000+00:00")]
    [InlineData("2026-11-27T15:30:00+01:00", "2026-11-27T14:30:00.0000000+00:00")]
    [InlineData("2026-11-27T14:30:00Z", "2026-11-27T14:30:00.0000000+00:00")]
    public void Times_are_read_as_dates_or_date_times_with_an_offset(string text, string expected)
    {
        Assert.True(Cli.ReconcileCommand.TryParseTime(text, out var value));
        Assert.Equal(expected, value.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }
}
