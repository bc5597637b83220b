using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Testing;

namespace ReleaseKit.Reconciliation.Tests;

/// <summary>A journal on a real database (SQLite file or PostgreSQL), an in-memory ERP and a fake clock.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory? _temp;
    private readonly PostgresDatabase? _postgres;
    private readonly DbDataSource _dataSource;

    private Harness(DbDataSource dataSource, TempDirectory? temp, PostgresDatabase? postgres, FakeTimeProvider? time)
    {
        _dataSource = dataSource;
        Time = time ?? new FakeTimeProvider(Start);
        _temp = temp;
        _postgres = postgres;
        Journal = new PostingJournal(dataSource, Time);
    }

    public static TheoryData<string> Databases => ["sqlite", "postgres"];

    public FakeTimeProvider Time { get; }

    public PostingJournal Journal { get; }

    public InMemoryErp Erp { get; } = new() { PageSize = 2 };

    public DbDataSource DataSource => _dataSource;

    public static async Task<Harness> CreateAsync(string database, FakeTimeProvider? time = null)
    {
        if (database == "postgres")
        {
            var db = await ReleaseKit.Testing.Databases.PostgresAsync();
            return new Harness(db.DataSource, null, db, time);
        }

        var temp = new TempDirectory();
        return new Harness(ReleaseKit.Testing.Databases.Sqlite(temp), temp, null, time);
    }

    public Reconciler Reconciler(string worker = "worker-a", Action<ReconciliationOptions>? configure = null, IErpGateway? gateway = null)
    {
        var options = new ReconciliationOptions { WorkerId = worker, RetryDelay = TimeSpan.Zero, MaxPostsPerSecond = null, LeaseDuration = TimeSpan.FromMinutes(1), PageSize = 3, CheckpointInterval = 1 };
        configure?.Invoke(options);
        return new Reconciler(Journal, gateway ?? Erp, options, Time);
    }

    public static PostingRequest Request(string businessKey, decimal amount = 120.50m, string tenant = "acme", string currency = "EUR", string release = "2026.11.3", string? payload = null, PostingKind? kind = null, int minute = 5) =>
        new(tenant, kind ?? PostingKind.InvoiceExport, businessKey, new Money(amount, currency), payload ?? $"{{\"invoice\":\"{businessKey}\",\"amount\":\"{amount}\"}}", release, Start.AddMinutes(minute));

    public static ReconciliationScope Scope(string tenant = "acme", string? release = null, PostingKind? kind = null) =>
        new(Start.AddDays(-1), Start.AddDays(1), [tenant], release, kind);

    public async Task ExecuteSqlAsync(string sql)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        else
        {
            SqliteConnection.ClearAllPools();
            await _dataSource.DisposeAsync();
            _temp?.Dispose();
        }
    }
}
