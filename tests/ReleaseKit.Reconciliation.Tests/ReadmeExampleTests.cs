#pragma warning disable xUnit1051 // The README example is copied verbatim.
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Testing;

namespace ReleaseKit.Reconciliation.Tests;

/// <summary>The package README's example, kept compiling and running here: the rollback scenario end to end.</summary>
public sealed class ReadmeExampleTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    private sealed class MyErpGateway(InMemoryErp erp) : IErpGateway
    {
        public ValueTask<ErpPostResult> PostAsync(ErpPosting posting, CancellationToken cancellationToken) => erp.PostAsync(posting, cancellationToken);

        public IAsyncEnumerable<ErpRecord> ReadAsync(string tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) => erp.ReadAsync(tenantId, from, to, cancellationToken);
    }

    [Fact]
    public async Task Readme_example_repairs_what_a_rolled_back_release_half_posted()
    {
        var services = new ServiceCollection();
        var erp = new InMemoryErp();
        services.AddSingleton(erp);
        DbDataSource dataSource = Databases.Sqlite(_temp);
        var request = Harness.Request("INV-2026-0001");
        var (from, to) = (Harness.Start, Harness.Start.AddMinutes(40));

        // The bad release half-did its work: INV-0002 journaled but never sent, INV-0003 posted twice.
        var sent = new PostingJournal(dataSource);
        await sent.RecordAsync(Harness.Request("INV-2026-0002", 80m));
        var twice = await sent.RecordAsync(Harness.Request("INV-2026-0003", 99.99m));
        erp.InjectFault("acme", "INV-2026-0003", ErpFault.AcceptDuplicate);
        await new Reconciler(sent, erp, new ReconciliationOptions { MaxPostsPerSecond = null }).SendAsync(twice);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var appTransaction = await connection.BeginTransactionAsync(); // the app's own unit of work

        // --- README ---
        services.AddSingleton<IErpGateway, MyErpGateway>(); // your adapter: idempotent post + paged, ordered read-back
        services.AddReleaseKit()
            .AddReconciliation(_ => dataSource, o => o.MaxPostsPerSecond = 20) // SQLite or PostgreSQL DbDataSource
            .AddGates(g => g.AddReconciliationBacklogGate());                   // fails promotion on old unreconciled postings
        using var provider = services.BuildServiceProvider();
        var entry = await provider.GetRequiredService<PostingJournal>().RecordAsync(request, appTransaction); // key stored before sending
        await appTransaction.CommitAsync();                                   // the posting commits with the app's own write
        var reconciler = provider.GetRequiredService<Reconciler>();
        await reconciler.SendAsync(entry);                                    // claim, post with the key, retry transient, acknowledge
        var scope = new ReconciliationScope(from, to, ["acme"], releaseVersion: "2026.11.3");
        var plan = await reconciler.PlanAsync(scope); Console.WriteLine(plan.Render()); // dry run: changes nothing
        var result = await reconciler.ExecuteAsync(plan, runId: "rollback-2026.11.3"); // same plan + run id resume after a crash
        // --- end ---

        Assert.Equal((1, 1), (plan.Count(ReconciliationAction.Replay), plan.Count(ReconciliationAction.Compensate)));
        Assert.Equal((1, 1), (result.Replayed, result.Compensated));
        Assert.True((await reconciler.ReportAsync(scope)).IsClean);
        Assert.Equal((4, 1), (erp.Snapshot().Count(r => r.Reverses is null), erp.Snapshot().Count(r => r.Reverses is not null))); // 3 live: 0001, 0002, 0003
    }
}
