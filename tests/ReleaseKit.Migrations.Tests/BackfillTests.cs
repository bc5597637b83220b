using System.Data.Common;
using FsCheck.Xunit;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Migrations.Tests;

public sealed class BackfillTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly BackfillRunnerOptions NoDelay = new() { RetryDelay = TimeSpan.Zero };

    /// <summary>Creates table item with the given keys, each row's processed count 0.</summary>
    private static async Task SeedAsync(DbDataSource dataSource, IEnumerable<long> keys)
    {
        await using var connection = await dataSource.OpenConnectionAsync(Ct);
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, processed INTEGER NOT NULL DEFAULT 0)";
            await create.ExecuteNonQueryAsync(Ct);
        }

        foreach (var key in keys)
        {
            await using var insert = connection.CreateCommand();
            insert.CommandText = $"INSERT INTO item (id) VALUES ({key})";
            await insert.ExecuteNonQueryAsync(Ct);
        }
    }

    private static async Task<List<long>> ProcessedCountsAsync(DbDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT processed FROM item ORDER BY id";
        var counts = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            counts.Add(Convert.ToInt64(reader.GetValue(0)));
        }

        return counts;
    }

    private static BackfillDefinition Definition(int batchSize, Func<BackfillBatch, ValueTask>? afterUpdate = null) => new(
        "item-processed",
        "item",
        "id",
        batchSize,
        async (batch, ct) =>
        {
            var rows = await batch.ExecuteAsync("UPDATE item SET processed = processed + 1 WHERE id > @from AND id <= @to", ct);
            if (afterUpdate is not null)
            {
                await afterUpdate(batch);
            }

            return rows;
        });

    private static readonly long[] Keys = Enumerable.Range(1, 40).Select(i => i * 3L).ToArray(); // 3, 6, ... 120: gaps between keys

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_backfill_that_crashes_mid_run_resumes_at_its_checkpoint_and_processes_every_row_exactly_once(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await SeedAsync(db.DataSource, Keys);
        var firstRun = new List<BackfillProgress>();
        var crashing = Definition(7, batch => batch.Number == 3 ? throw new InvalidOperationException("process crashed") : ValueTask.CompletedTask);

        var crash = await Assert.ThrowsAsync<InvalidOperationException>(() => new BackfillRunner(db.DataSource, NoDelay).RunAsync(crashing, new SyncProgress(firstRun.Add), Ct));

        Assert.Equal("process crashed", crash.Message);
        Assert.Equal([21L, 42L], firstRun.Select(p => p.LastKey)); // two batches of 7 keys committed; the third rolled back
        var runner = new BackfillRunner(db.DataSource, NoDelay);
        Assert.Equal(42L, await runner.GetCheckpointAsync("item-processed", Ct));

        var secondRun = new List<BackfillProgress>();
        var result = await runner.RunAsync(Definition(7), new SyncProgress(secondRun.Add), Ct);

        Assert.Equal(42L, result.ResumedFrom);
        Assert.Equal(120L, result.LastKey);
        Assert.Equal(4, result.Batches); // 26 keys left in batches of 7
        Assert.Equal(26L, result.Rows);
        Assert.Equal([63L, 84L, 105L, 120L], secondRun.Select(p => p.LastKey));
        Assert.All(secondRun, p => Assert.Equal(42L, p.ResumedFrom));
        Assert.All(await ProcessedCountsAsync(db.DataSource), count => Assert.Equal(1L, count));
        Assert.Equal(40, (await ProcessedCountsAsync(db.DataSource)).Count);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_transient_error_retries_the_batch_and_any_other_error_is_not_retried(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await SeedAsync(db.DataSource, Keys);
        var attempts = new Dictionary<long, int>();
        var flaky = Definition(10, batch =>
        {
            attempts[batch.ToInclusive] = attempts.GetValueOrDefault(batch.ToInclusive) + 1;
            return batch.Number == 2 && attempts[batch.ToInclusive] < 3 ? throw new TransientDbException() : ValueTask.CompletedTask;
        });

        var result = await new BackfillRunner(db.DataSource, NoDelay).RunAsync(flaky, null, Ct);

        Assert.Equal(4, result.Batches);
        Assert.Equal(3, attempts[60]); // batch 2 (keys 33..60) failed twice, then committed
        Assert.All(await ProcessedCountsAsync(db.DataSource), count => Assert.Equal(1L, count));

        var permanentAttempts = 0;
        var broken = new BackfillDefinition("broken", "item", "id", 10, (_, _) =>
        {
            permanentAttempts++;
            throw new InvalidOperationException("bug in the batch");
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => new BackfillRunner(db.DataSource, NoDelay).RunAsync(broken, null, Ct));
        Assert.Equal(1, permanentAttempts);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task Concurrent_runners_of_one_backfill_process_every_row_exactly_once(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await SeedAsync(db.DataSource, Keys);

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => new BackfillRunner(db.DataSource, NoDelay).RunAsync(Definition(3), null, Ct), Ct)));

        Assert.Equal(14, results.Sum(r => r.Batches)); // 40 keys in batches of 3, each claimed by one runner
        Assert.All(await ProcessedCountsAsync(db.DataSource), count => Assert.Equal(1L, count));
    }

    [Property(MaxTest = 25)]
    public async Task<bool> Wherever_a_backfill_crashes_the_resumed_run_processes_every_row_exactly_once(byte rowsSeed, byte batchSeed, byte crashSeed)
    {
        var rows = rowsSeed % 31;
        var batchSize = (batchSeed % 8) + 1;
        var crashAtBatch = (crashSeed % 6) + 1;
        using var directory = new TempDirectory();
        await using var dataSource = Databases.Sqlite(directory);
        await SeedAsync(dataSource, Enumerable.Range(1, rows).Select(i => (long)i * 2));
        try
        {
            await new BackfillRunner(dataSource, NoDelay).RunAsync(Definition(batchSize, b => b.Number == crashAtBatch ? throw new InvalidOperationException("crash") : ValueTask.CompletedTask), null, Ct);
        }
        catch (InvalidOperationException)
        {
        }

        await new BackfillRunner(dataSource, NoDelay).RunAsync(Definition(batchSize), null, Ct);
        var counts = await ProcessedCountsAsync(dataSource);
        return counts.Count == rows && counts.All(c => c == 1);
    }

    [Theory]
    [InlineData(SqlDialect.Sqlite)]
    [InlineData(SqlDialect.PostgreSql)]
    public async Task A_batched_Backfill_migration_runs_its_batches_before_it_is_recorded_as_applied(SqlDialect dialect)
    {
        await using var db = await TestDatabase.CreateAsync(dialect);
        await using var runner = db.RunnerServices("RunnerSamples.Batched");
        var registry = new FleetRegistry(db.DataSource);
        var catalog = MigrationCatalog.FromAssembly(typeof(BackfillTests).Assembly, "RunnerSamples.Batched");
        var progress = new List<BackfillProgress>();

        var result = await new FleetMigrator(runner, catalog, registry, db.DataSource).ApplyAsync(Phase.Backfill, new SyncProgress(progress.Add), Ct);

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal([1L, 2L], result.Applied);
        Assert.Equal([20L, 40L, 50L], progress.Select(p => p.LastKey)); // 5 rows in batches of 2
        Assert.Equal(0, await db.ScalarAsync("SELECT COUNT(*) FROM invoice WHERE amount_due IS NULL OR amount_due <> total"));
        Assert.Equal(50L, await new BackfillRunner(db.DataSource).GetCheckpointAsync("invoice-amount-due", Ct));
    }

    [Fact]
    public void A_backfill_definition_with_a_name_that_is_not_an_identifier_is_refused_and_the_error_says_where()
    {
        var ex = Assert.Throws<ArgumentException>(() => new BackfillDefinition("b", "item; DROP TABLE item", "id", 10, (_, _) => ValueTask.FromResult(0)));
        Assert.Contains("'item; DROP TABLE item' is not a plain SQL identifier", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackfillDefinition("b", "item", "id", 0, (_, _) => ValueTask.FromResult(0)));
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; posts to the thread pool, so its reports could arrive after the run).</summary>
    private sealed class SyncProgress(Action<BackfillProgress> report) : IProgress<BackfillProgress>
    {
        public void Report(BackfillProgress value) => report(value);
    }

    private sealed class TransientDbException() : DbException("connection reset (simulated)")
    {
        public override bool IsTransient => true;
    }
}
