using System.Data.Common;

namespace ReleaseKit.Gates;

/// <summary>
/// Creates a store's tables once per instance, for the ReleaseKit stores that keep their state in the application's
/// database (artifact records, health baselines, the fleet registry, backfill progress). The first caller runs the
/// statements in one transaction — on PostgreSQL under a transaction-scoped advisory lock, so instances starting together
/// do not collide on <c>CREATE TABLE IF NOT EXISTS</c> — and later callers await the same task. A failed attempt (the
/// database is down) is retried by the next call. The work is not tied to one caller's cancellation token: a caller that
/// gives up stops waiting, and the creation goes on for the others.
/// </summary>
/// <remarks>Never call it inside an application's transaction: it opens its own connection.</remarks>
public sealed class SqlSchemaInitializer
{
    private readonly DbDataSource _dataSource;
    private readonly SqlDialect _dialect;
    private readonly long _advisoryLockKey;
    private readonly string[] _statements;
    private Task? _created;

    /// <summary>Creates the initializer.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="dialect">Its SQL dialect.</param>
    /// <param name="advisoryLockKey">The PostgreSQL advisory lock key that serializes the creation across processes (one per store).</param>
    /// <param name="statements">The statements, idempotent (<c>CREATE TABLE IF NOT EXISTS</c>, <c>CREATE INDEX IF NOT EXISTS</c>), run in order.</param>
    public SqlSchemaInitializer(DbDataSource dataSource, SqlDialect dialect, long advisoryLockKey, params IReadOnlyList<string> statements)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(statements);
        SqlDialects.ThrowIfUndefined(dialect, nameof(dialect));
        if (statements.Count == 0 || statements.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Give at least one statement, none of them blank.", nameof(statements));
        }

        _dataSource = dataSource;
        _dialect = dialect;
        _advisoryLockKey = advisoryLockKey;
        _statements = [.. statements];
    }

    /// <summary>Ensures the tables exist: creates them on the first call, and again after a failed attempt.</summary>
    /// <param name="cancellationToken">Stops this caller's wait (not the creation).</param>
    /// <returns>A task that completes when the tables exist.</returns>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        var current = Volatile.Read(ref _created);
        if (current is null || current.IsFaulted || current.IsCanceled)
        {
            var created = CreateAsync();
            current = Interlocked.CompareExchange(ref _created, created, current) == current ? created : Volatile.Read(ref _created)!;
        }

        return current.IsCompletedSuccessfully ? Task.CompletedTask : current.WaitAsync(cancellationToken);
    }

    private async Task CreateAsync()
    {
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                if (_dialect == SqlDialect.PostgreSql)
                {
                    await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({_advisoryLockKey})").ConfigureAwait(false);
                }

                foreach (var statement in _statements)
                {
                    await ExecuteAsync(connection, transaction, statement).ConfigureAwait(false);
                }

                await transaction.CommitAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }
}
