using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using ReleaseKit.Gates;
using ReleaseKit.Migrations.Internal;

namespace ReleaseKit.Migrations;

/// <summary>Options of the <see cref="BackfillRunner"/>.</summary>
public sealed class BackfillRunnerOptions
{
    /// <summary>How many times a batch that failed with a transient error is retried. Default 5; 0 disables retries.</summary>
    public int MaxRetryAttempts { get; set; } = 5;

    /// <summary>The first retry delay (exponential backoff with jitter). Default 200 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Decides whether an error is transient (retried). Default: <see cref="DbException.IsTransient"/>, SQLite busy/locked
    /// (SQLite result codes 5 and 6, read from <c>SqliteException.SqliteErrorCode</c>) and <see cref="TimeoutException"/>. Any other error ends the run; the checkpoint keeps the
    /// batches already committed.
    /// </summary>
    public Func<Exception, bool>? IsTransient { get; set; }
}

/// <summary>
/// Runs <see cref="BackfillDefinition"/>s in key-range batches. Each batch claims its range and moves the checkpoint (table
/// <c>releasekit_backfill_progress</c> in the application's database) in the same transaction as the batch's work, so a crash
/// loses at most the batch in flight, which the next run redoes: every row is processed exactly once by work done in the
/// batch's transaction. Runners may run the same backfill concurrently; each range is claimed by exactly one of them.
/// </summary>
public sealed class BackfillRunner
{
    internal const string ProgressTable = "releasekit_backfill_progress";

    private readonly DbDataSource _dataSource;
    private readonly SqlDialect _dialect;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Func<Exception, bool> _isTransient;
    private readonly ResiliencePipeline _pipeline;
    private readonly SqlSchemaInitializer _schema;

    /// <summary>Creates the runner.</summary>
    /// <param name="dataSource">The application's database (the backfilled table and the checkpoint live there).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock (retry delays, checkpoint times); <see langword="null"/> for the system clock.</param>
    /// <param name="dialect">The SQL dialect; <see langword="null"/> to detect it from the data source.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    public BackfillRunner(DbDataSource dataSource, BackfillRunnerOptions? options = null, TimeProvider? timeProvider = null, SqlDialect? dialect = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new BackfillRunnerOptions();
        if (options.MaxRetryAttempts < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxRetryAttempts, "BackfillRunnerOptions.MaxRetryAttempts must be 0 or more.");
        }

        if (options.RetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RetryDelay, "BackfillRunnerOptions.RetryDelay must not be negative.");
        }

        _dataSource = dataSource;
        _dialect = dialect ?? Db.Detect(dataSource);
        _schema = new SqlSchemaInitializer(dataSource, _dialect, SchemaLockKey, CreateTableSql);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _isTransient = options.IsTransient ?? IsTransientByDefault;
        var builder = new ResiliencePipelineBuilder { TimeProvider = _timeProvider, Name = "releasekit-backfill" };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex
                    && !(ex is OperationCanceledException && args.Context.CancellationToken.IsCancellationRequested)
                    && _isTransient(ex)),
                OnRetry = args =>
                {
                    var name = args.Context.Properties.TryGetValue(BackfillNameKey, out var value) ? value : "?";
                    MigrationsLog.BackfillRetry(_logger, name, args.Outcome.Exception?.GetType().Name ?? "none", args.AttemptNumber + 2);
                    return ValueTask.CompletedTask;
                },
            });
        }

        _pipeline = builder.Build();
    }

    private static readonly ResiliencePropertyKey<string> BackfillNameKey = new("releasekit.backfill.name");

    /// <summary>
    /// Runs the backfill from its checkpoint to the end of the table, one batch per transaction, reporting progress after each
    /// committed batch. A transient error retries the batch; any other error ends the run with the exception, and the next run
    /// resumes after the last committed batch.
    /// </summary>
    /// <param name="definition">The backfill.</param>
    /// <param name="progress">Receives progress after each committed batch; <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the run between or inside batches (a cancelled batch rolls back).</param>
    public Task<BackfillResult> RunAsync(BackfillDefinition definition, IProgress<BackfillProgress>? progress = null, CancellationToken cancellationToken = default)
        => RunAsync(definition, progress, null, cancellationToken);

    /// <summary>Runs the backfill like the public overload, calling <paramref name="beforeBatch"/> before each batch (the migrator checks its lock there).</summary>
    internal async Task<BackfillResult> RunAsync(BackfillDefinition definition, IProgress<BackfillProgress>? progress, Func<CancellationToken, Task>? beforeBatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var resumedFrom = await StartAsync(definition.Name, cancellationToken).ConfigureAwait(false);
        var batches = 0;
        var rows = 0L;
        var lastKey = resumedFrom;
        using var activity = MigrationsTelemetry.ActivitySource.StartActivity("releasekit.migrations.backfill");
        activity?.SetTag(MigrationsTelemetryTags.Backfill, definition.Name);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (beforeBatch is not null)
            {
                await beforeBatch(cancellationToken).ConfigureAwait(false);
            }

            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            BatchOutcome outcome;
            try
            {
                context.Properties.Set(BackfillNameKey, definition.Name);
                outcome = await _pipeline.ExecuteAsync(
                    static (ctx, state) => state.Runner.RunBatchAsync(state.Definition, state.Number, ctx.CancellationToken),
                    context,
                    (Runner: this, Definition: definition, Number: batches + 1)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }

            if (outcome.Kind == BatchKind.Done)
            {
                break;
            }

            if (outcome.Kind == BatchKind.LostRace)
            {
                continue;
            }

            batches++;
            rows += outcome.Rows;
            lastKey = outcome.LastKey;
            MigrationsTelemetry.BackfillRows.Add(outcome.Rows, new KeyValuePair<string, object?>(MigrationsTelemetryTags.Backfill, definition.Name));
            MigrationsLog.BackfillBatch(_logger, definition.Name, batches, outcome.LastKey, outcome.Rows);
            progress?.Report(new BackfillProgress(definition.Name, outcome.LastKey, batches, rows, resumedFrom));
        }

        MigrationsLog.BackfillDone(_logger, definition.Name, batches, rows, resumedFrom?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "the beginning");
        return new BackfillResult(definition.Name, batches, rows, lastKey, resumedFrom);
    }

    /// <summary>The stored checkpoint of a backfill: the last key done, or <see langword="null"/> when it has not committed a batch.</summary>
    /// <param name="name">The backfill's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<long?> GetCheckpointAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var value = await Db.ScalarAsync(connection, _dialect, $"SELECT last_key FROM {ProgressTable} WHERE name = {P(1)}", cancellationToken, name).ConfigureAwait(false);
            return value is null ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Deletes a backfill's checkpoint, so the next run starts from the beginning.</summary>
    /// <param name="name">The backfill's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task ResetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await Db.ExecuteAsync(connection, _dialect, $"DELETE FROM {ProgressTable} WHERE name = {P(1)}", cancellationToken, name).ConfigureAwait(false);
        }
    }

    private bool IsTransientByDefault(Exception exception) => exception switch
    {
        DbException { IsTransient: true } => true,
        DbException db when _dialect == SqlDialect.Sqlite && Db.IsSqliteBusy(db) => true,
        TimeoutException => true,
        _ => false,
    };

    private async Task<long?> StartAsync(string name, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await Db.ExecuteAsync(
                connection,
                _dialect,
                $"INSERT INTO {ProgressTable} (name, last_key, generation, rows_done, updated_at_ms) VALUES ({P(1)}, {P(2)}, 0, 0, {P(3)}) ON CONFLICT (name) DO NOTHING",
                cancellationToken,
                name,
                Db.NullInt64,
                _timeProvider.GetUtcNow().ToUnixTimeMilliseconds()).ConfigureAwait(false);
            var value = await Db.ScalarAsync(connection, _dialect, $"SELECT last_key FROM {ProgressTable} WHERE name = {P(1)}", cancellationToken, name).ConfigureAwait(false);
            return value is null ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private async ValueTask<BatchOutcome> RunBatchAsync(BackfillDefinition definition, int number, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                long generation;
                long? from;
                var command = Db.Command(connection, _dialect, $"SELECT generation, last_key FROM {ProgressTable} WHERE name = {P(1)}", definition.Name);
                await using (command.ConfigureAwait(false))
                {
                    command.Transaction = transaction;
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            throw new InvalidOperationException($"Backfill {definition.Name}: its checkpoint row in {ProgressTable} was deleted during the run; run it again.");
                        }

                        generation = reader.GetInt64(0);
                        from = await reader.IsDBNullAsync(1, cancellationToken).ConfigureAwait(false) ? null : reader.GetInt64(1);
                    }
                }

                var after = from is null ? string.Empty : $" WHERE {definition.QuotedKey} > {P(1)}";
                object?[] bound = from is null ? [] : [from.Value];
                var upper = await ScalarInt64Async(
                    connection,
                    transaction,
                    $"SELECT {definition.QuotedKey} FROM {definition.QuotedTable}{after} ORDER BY {definition.QuotedKey} LIMIT 1 OFFSET {definition.BatchSize - 1}",
                    bound,
                    cancellationToken).ConfigureAwait(false)
                    ?? await ScalarInt64Async(connection, transaction, $"SELECT MAX({definition.QuotedKey}) FROM {definition.QuotedTable}{after}", bound, cancellationToken).ConfigureAwait(false);
                if (upper is not { } to)
                {
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return new BatchOutcome(BatchKind.Done, 0, from ?? 0);
                }

                // Claim the range: only the runner that still sees this generation moves the checkpoint; a concurrent runner
                // that claimed it first makes this update match no row (PostgreSQL re-checks after the other commits).
                var claim = Db.Command(
                    connection,
                    _dialect,
                    $"UPDATE {ProgressTable} SET last_key = {P(1)}, generation = generation + 1, updated_at_ms = {P(2)} WHERE name = {P(3)} AND generation = {P(4)}",
                    to,
                    _timeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
                    definition.Name,
                    generation);
                await using (claim.ConfigureAwait(false))
                {
                    claim.Transaction = transaction;
                    if (await claim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                    {
                        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                        return new BatchOutcome(BatchKind.LostRace, 0, 0);
                    }
                }

                var batch = new BackfillBatch(definition.Name, from ?? long.MinValue, to, number, connection, transaction, _dialect);
                var changed = await definition.ProcessBatch(batch, cancellationToken).ConfigureAwait(false);
                var count = Db.Command(connection, _dialect, $"UPDATE {ProgressTable} SET rows_done = rows_done + {P(1)} WHERE name = {P(2)}", (long)Math.Max(0, changed), definition.Name);
                await using (count.ConfigureAwait(false))
                {
                    count.Transaction = transaction;
                    await count.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new BatchOutcome(BatchKind.Committed, Math.Max(0, changed), to);
            }
        }
    }

    private async Task<long?> ScalarInt64Async(DbConnection connection, DbTransaction transaction, string sql, object?[] values, CancellationToken cancellationToken)
    {
        var command = Db.Command(connection, _dialect, sql, values);
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is null or DBNull ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private string P(int position) => Db.P(_dialect, position);

    private Task EnsureSchemaAsync(CancellationToken cancellationToken) => _schema.EnsureCreatedAsync(cancellationToken);

    private const long SchemaLockKey = 0x52_4B_42_41_43_4B_46; // "RKBACKF"

    private const string CreateTableSql =
        $"CREATE TABLE IF NOT EXISTS {ProgressTable} (name TEXT NOT NULL PRIMARY KEY, last_key BIGINT NULL, generation BIGINT NOT NULL, rows_done BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL)";

    private enum BatchKind
    {
        Committed,
        LostRace,
        Done,
    }

    private readonly record struct BatchOutcome(BatchKind Kind, int Rows, long LastKey);
}
