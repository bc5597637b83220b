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
