using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Testing;

namespace ReleaseKit.HealthCriteria.Tests;

/// <summary>The database baseline store on a real SQLite file and a real PostgreSQL database.</summary>
public sealed class DbHealthBaselineStoreTests
{
    private static readonly DateTimeOffset Deploy = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Databases => ["sqlite", "postgres"];

    private static async Task<(DbDataSource DataSource, IAsyncDisposable Owner)> OpenAsync(string database)
    {
        if (database == "sqlite")
        {
            var directory = new TempDirectory();
            var dataSource = ReleaseKit.Testing.Databases.Sqlite(directory, "baselines.db");
            return (dataSource, new Owner(dataSource, directory));
        }

        var postgres = await ReleaseKit.Testing.Databases.PostgresAsync();
        return (postgres.DataSource, postgres);
    }

    private sealed class Owner(DbDataSource dataSource, TempDirectory directory) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await dataSource.DisposeAsync();
            directory.Dispose();
        }
    }

    private static WindowSnapshot Snapshot(string release, DateTimeOffset start, params double[] latencies)
    {
        var sketch = new QuantileSketch();
        foreach (var latency in latencies)
        {
            sketch.Add(latency);
        }

        return new WindowSnapshot(release, ReleaseWindow.FirstHourName, start, start.AddHours(1),
        [
            new(("http.server.request.duration", ""), new SignalAggregate(SignalKind.Distribution, sketch, latencies.Length)),
            new(("invoice.exports", "dedicated"), new SignalAggregate(SignalKind.Counter, null, 42)),
        ]);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task The_baseline_survives_a_new_process_and_is_the_release_deployed_last_before_the_current_one(string database)
    {
        var ct = TestContext.Current.CancellationToken;
        var (dataSource, owner) = await OpenAsync(database);
        await using (owner)
        {
            var time = new FakeTimeProvider(Deploy);
            var first = new DbHealthBaselineStore(dataSource, timeProvider: time);
            await first.SaveAsync(Snapshot("2026.11.1", Deploy, 0.1, 0.2, 0.3), ct);
            time.Advance(TimeSpan.FromDays(1));
            await first.SaveAsync(Snapshot("2026.11.2", Deploy.AddDays(1), 0.4, 0.5), ct);

            // A new instance, as after a deploy replaced the process.
            var second = new DbHealthBaselineStore(dataSource, timeProvider: time);
            var forThird = await second.FindBaselineAsync(ReleaseWindow.FirstHourName, "2026.11.3", ct);
            Assert.NotNull(forThird);
            Assert.Equal("2026.11.2", forThird.ReleaseId);
            Assert.Equal(Deploy.AddDays(1), forThird.Start);
            var latency = forThird.Find("http.server.request.duration")!;
            Assert.Equal(2, latency.Total);
            Assert.Equal(new QuantileSketch().Also(s => { s.Add(0.4); s.Add(0.5); }).GetQuantile(0.5), latency.Sketch!.GetQuantile(0.5));
            Assert.Equal(42, forThird.Find("invoice.exports", "dedicated")!.Total);

            // Judging 2026.11.2 itself compares with the release before it, never with itself.
            Assert.Equal("2026.11.1", (await second.FindBaselineAsync(ReleaseWindow.FirstHourName, "2026.11.2", ct))!.ReleaseId);
            Assert.Null(await second.FindBaselineAsync(ReleaseWindow.FirstDayName, "2026.11.3", ct));
        }
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Saving_a_release_and_window_again_replaces_the_row(string database)
    {
        var ct = TestContext.Current.CancellationToken;
        var (dataSource, owner) = await OpenAsync(database);
        await using (owner)
        {
            var store = new DbHealthBaselineStore(dataSource, timeProvider: new FakeTimeProvider(Deploy));
            await store.SaveAsync(Snapshot("2026.11.1", Deploy, 0.1), ct);
            await store.SaveAsync(Snapshot("2026.11.1", Deploy, 0.1, 0.2, 0.3, 0.4), ct);
            var baseline = await store.FindBaselineAsync(ReleaseWindow.FirstHourName, "2026.11.2", ct);
            Assert.Equal(4, baseline!.Find("http.server.request.duration")!.Total);

            var connection = await dataSource.OpenConnectionAsync(ct);
            await using (connection)
            {
                await using var count = connection.CreateCommand();
                count.CommandText = $"SELECT COUNT(*) FROM {DbHealthBaselineStore.TableName}";
                Assert.Equal(1L, Convert.ToInt64(await count.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task A_corrupt_row_is_an_error_naming_the_release_and_window_not_a_missing_baseline(string database)
    {
        var ct = TestContext.Current.CancellationToken;
        var (dataSource, owner) = await OpenAsync(database);
        await using (owner)
        {
            var store = new DbHealthBaselineStore(dataSource, timeProvider: new FakeTimeProvider(Deploy));
            await store.SaveAsync(Snapshot("2026.11.1", Deploy, 0.1), ct);
            var connection = await dataSource.OpenConnectionAsync(ct);
            await using (connection)
            {
                await using var corrupt = connection.CreateCommand();
                corrupt.CommandText = $"UPDATE {DbHealthBaselineStore.TableName} SET snapshot = {(database == "postgres" ? "'\\x524b5753'::bytea" : "X'524B5753'")}";
                await corrupt.ExecuteNonQueryAsync(ct);
            }

            var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.FindBaselineAsync(ReleaseWindow.FirstHourName, "2026.11.2", ct));
            Assert.Contains("'2026.11.1'", error.Message, StringComparison.Ordinal);
            Assert.Contains(ReleaseWindow.FirstHourName, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_registered_store_replaces_the_in_memory_default_and_the_health_gate_uses_it()
    {
        using var directory = new TempDirectory();
        await using var dataSource = ReleaseKit.Testing.Databases.Sqlite(directory, "baselines.db");
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Deploy));
        services.AddReleaseKit().UseDbHealthBaselineStore(dataSource).AddHealthCriteria(o => o.ReleaseId = "2026.11.2");
        await using var provider = services.BuildServiceProvider();
        var store = Assert.IsType<DbHealthBaselineStore>(provider.GetRequiredService<IHealthBaselineStore>());
        await store.SaveAsync(Snapshot("2026.11.1", Deploy, 0.1), TestContext.Current.CancellationToken);
        Assert.Equal("2026.11.1", (await provider.GetRequiredService<IHealthBaselineStore>().FindBaselineAsync(ReleaseWindow.FirstHourName, "2026.11.2", TestContext.Current.CancellationToken))!.ReleaseId);
    }
}

internal static class SketchTestExtensions
{
    public static QuantileSketch Also(this QuantileSketch sketch, Action<QuantileSketch> action)
    {
        action(sketch);
        return sketch;
    }
}
