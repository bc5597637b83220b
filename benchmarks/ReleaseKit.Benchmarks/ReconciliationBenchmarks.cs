using System.Data.Common;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Data.Sqlite;
using ReleaseKit.Reconciliation;

namespace ReleaseKit.Benchmarks;

/// <summary>
/// Reconciliation beside its anchors, each pair in its own category with the anchor as baseline.
/// Diff: 1,000,000 journal rows against 1,000,000 ERP records with 1% discrepancies (missing, orphan, duplicate, amount
/// mismatch), the package's streaming sorted merge vs a straightforward dictionary join with the same classification;
/// allocated memory is the extra memory each needs (both read the same pre-built, already sorted streams).
/// Replay: executing a plan of 2,000 missing postings (claim, post, acknowledge, a checkpoint every 50) with a SQLite
/// file journal against the in-memory ERP, vs posting the same 2,000 straight to the in-memory ERP; per posting.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ReconciliationBenchmarks
{
    private const int DiffSize = 1_000_000;
    private const int ReplaySize = 2_000;
    private const string Tenant = "acme";

    private static readonly DateTimeOffset Start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    private JournalRow[] _journal = null!;
    private ErpRecord[] _erp = null!;
    private ReconciliationScope _diffScope = null!;

    private string _directory = null!;
    private DbDataSource _dataSource = null!;
    private PostingJournal _postingJournal = null!;
    private InMemoryErp _replayErp = null!;
    private Reconciler _reconciler = null!;
    private ReconciliationPlan _plan = null!;
    private ErpPosting[] _direct = null!;
    private int _iteration;

    [GlobalSetup]
    public void Setup()
    {
        var kind = PostingKind.InvoiceExport;
        var journal = new List<JournalRow>(DiffSize);
        var erp = new List<ErpRecord>(DiffSize + (DiffSize / 200));
        for (var i = 0; i < DiffSize; i++)
        {
            var key = $"INV-{i:D8}";
            var amount = new Money(100m + (i % 1000), "EUR");
            var entry = new JournalEntry(Tenant, kind, key, $"rk-{i:D8}", "f", string.Empty, amount, "2026.11.3", Start, PostingStatus.Acknowledged, 1, null, null, 1, null, $"ERP-{i:D8}", Start, Start);
            var record = new ErpRecord(Tenant, kind, key, entry.IdempotencyKey, "f", amount, Start, $"ERP-{i:D8}");
            switch (i % 400)
            {
                case 1: // missing downstream
                    journal.Add(new JournalRow(kind.Value, key, entry with { Status = PostingStatus.Pending }, null));
                    break;
                case 2: // orphan downstream
                    erp.Add(record);
                    break;
                case 3: // duplicate downstream
                    journal.Add(new JournalRow(kind.Value, key, entry, null));
                    erp.Add(record);
                    erp.Add(record with { IdempotencyKey = "dup", ErpReference = $"ERP-{i:D8}-dup" });
                    break;
                case 4: // amount mismatch
                    journal.Add(new JournalRow(kind.Value, key, entry, null));
                    erp.Add(record with { Amount = new Money(1m, "EUR") });
                    break;
                default:
                    journal.Add(new JournalRow(kind.Value, key, entry, null));
                    erp.Add(record);
                    break;
            }
        }

        _journal = [.. journal];
        _erp = [.. erp];
        _diffScope = new ReconciliationScope(Start.AddDays(-1), Start.AddDays(1), [Tenant]);
        if (StreamingMergeDiff() != DictionaryJoinDiff() || StreamingMergeDiff() != DiffSize / 100)
        {
            throw new InvalidOperationException("Both diffs must find the same 1% discrepancies.");
        }

        _directory = Path.Combine(Path.GetTempPath(), "releasekit-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _dataSource = SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "journal.db") }.ConnectionString);
        using (var connection = _dataSource.OpenConnection())
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL";
            wal.ExecuteNonQuery();
        }

        _postingJournal = new PostingJournal(_dataSource);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SqliteConnection.ClearAllPools();
        _dataSource.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Diff 1M vs 1M")]
    public int DictionaryJoinDiff()
    {
        var journal = new Dictionary<(string, string), JournalRow>(DiffSize);
        foreach (var row in Stream(_journal).ToBlockingEnumerable())
        {
            journal.Add((row.Kind, row.BusinessKey), row);
        }

        var erp = new Dictionary<(string, string), List<ErpRecord>>(DiffSize);
        foreach (var record in Stream(_erp).ToBlockingEnumerable())
        {
            if (!erp.TryGetValue((record.Kind.Value, record.BusinessKey), out var list))
            {
                erp[(record.Kind.Value, record.BusinessKey)] = list = new List<ErpRecord>(1);
            }

            list.Add(record);
        }

        var found = 0;
        foreach (var (key, row) in journal)
        {
            var records = erp.Remove(key, out var list) ? list : [];
            found += DiffEngine.Classify(Tenant, row, records, Start) is null ? 0 : 1;
        }

        foreach (var (_, records) in erp)
        {
            found += DiffEngine.Classify(Tenant, null, records, Start) is null ? 0 : 1;
        }

        return found;
    }

    [Benchmark]
    [BenchmarkCategory("Diff 1M vs 1M")]
    public int StreamingMergeDiff()
    {
        var found = 0;
        foreach (var _ in DiffEngine.DiffAsync(Tenant, Stream(_journal), Stream(_erp), _diffScope, Start, lookUp: null, CancellationToken.None).ToBlockingEnumerable())
        {
            found++;
        }

        return found;
    }

    [IterationSetup(Targets = [nameof(DirectPostsToInMemoryErp), nameof(ReplayWithSqliteJournalAndCheckpoints)])]
    public void ReplaySetup()
    {
        var tenant = $"t{++_iteration}";
        _replayErp = new InMemoryErp();
        _reconciler = new Reconciler(_postingJournal, _replayErp, new ReconciliationOptions { MaxPostsPerSecond = null, CheckpointInterval = 50, WorkerId = "bench" });
        _direct = new ErpPosting[ReplaySize];
        for (var i = 0; i < ReplaySize; i++)
        {
            var entry = _postingJournal.RecordAsync(new PostingRequest(tenant, PostingKind.ErpJournalEntry, $"JE-{i:D6}", new Money(10m + i, "EUR"), $"{{\"n\":{i}}}", "2026.11.3", Start)).GetAwaiter().GetResult();
            _direct[i] = new ErpPosting(entry.TenantId, entry.Kind, entry.BusinessKey, entry.IdempotencyKey, entry.PayloadFingerprint, entry.Payload, entry.Amount, entry.OccurredAt);
        }

        _plan = _reconciler.PlanAsync(new ReconciliationScope(Start.AddDays(-1), Start.AddDays(1), [tenant])).GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ReplaySize)]
    [BenchmarkCategory("Replay per posting")]
    public async Task<int> DirectPostsToInMemoryErp()
    {
        foreach (var posting in _direct)
        {
            await _replayErp.PostAsync(posting, CancellationToken.None);
        }

        return _direct.Length;
    }

    [Benchmark(OperationsPerInvoke = ReplaySize)]
    [BenchmarkCategory("Replay per posting")]
    public async Task<int> ReplayWithSqliteJournalAndCheckpoints()
    {
        var result = await _reconciler.ExecuteAsync(_plan, $"run-{_iteration}");
        return result.Replayed != ReplaySize ? throw new InvalidOperationException($"Replayed {result.Replayed} of {ReplaySize}.") : result.Replayed;
    }

    private static async IAsyncEnumerable<T> Stream<T>(T[] items)
    {
        foreach (var item in items)
        {
            yield return item;
        }

        await Task.CompletedTask;
    }
}
