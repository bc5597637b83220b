using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReleaseKit.Gates;
using ReleaseKit.Migrations.Internal;

namespace ReleaseKit.Migrations;

/// <summary>
/// One migrator at a time across the fleet. PostgreSQL: a session advisory lock, waited for with <c>lock_timeout</c>; PostgreSQL
/// releases it when the holder's session ends, so a dead process never keeps it. SQLite: a lease row written in an exclusive
/// transaction (busy timeout = the lock timeout); a lease of a dead process expires after <see cref="FleetMigratorOptions.SqliteLeaseDuration"/>,
/// and the live holder renews it every third of that duration until it releases it, so a long apply keeps it.
/// </summary>
internal sealed class MigrationLock
{
    internal const long AdvisoryLockKey = 0x52_4B_4D_49_47_52_54; // "RKMIGRT"
    internal const string SqliteLockTable = "releasekit_migration_lock";

    private readonly DbDataSource _dataSource;
    private readonly SqlDialect _dialect;
    private readonly FleetMigratorOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public MigrationLock(DbDataSource dataSource, SqlDialect dialect, FleetMigratorOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        _dataSource = dataSource;
        _dialect = dialect;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger.Instance;
    }

    public async Task<IAsyncDisposable> AcquireAsync(string holder, CancellationToken cancellationToken)
    {
        try
        {
            var handle = _dialect == SqlDialect.PostgreSql
                ? await AcquirePostgresAsync(holder, cancellationToken).ConfigureAwait(false)
                : await AcquireSqliteAsync(holder, cancellationToken).ConfigureAwait(false);
            MigrationsLog.LockAcquired(_logger, holder);
            return handle;
        }
        catch (TimeoutException)
        {
            MigrationsLog.LockTimedOut(_logger, holder, _options.LockTimeout);
            throw;
        }
    }

    private async Task<IAsyncDisposable> AcquirePostgresAsync(string holder, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var timeoutMs = (long)Math.Max(1, _options.LockTimeout.TotalMilliseconds);
            await Db.ExecuteAsync(connection, _dialect, $"SET lock_timeout = {timeoutMs}", cancellationToken).ConfigureAwait(false);
            try
            {
                await Db.ExecuteAsync(connection, _dialect, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken).ConfigureAwait(false);
            }
            catch (DbException ex) when (ex.SqlState == "55P03")
            {
                throw new TimeoutException(
                    $"Another migrator holds the migration lock (PostgreSQL advisory lock {AdvisoryLockKey}) and did not release it within {_options.LockTimeout}. "
                    + "See SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = " + (AdvisoryLockKey & 0xFFFFFFFF) + "; a lock of a dead session is released by PostgreSQL when the session ends.",
                    ex);
            }

            await Db.ExecuteAsync(connection, _dialect, "SET lock_timeout = 0", cancellationToken).ConfigureAwait(false);
            return new Releaser(async () =>
            {
                await using (connection.ConfigureAwait(false))
                {
                    await Db.ExecuteAsync(connection, _dialect, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None).ConfigureAwait(false);
                }

                MigrationsLog.LockReleased(_logger, holder);
            });
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<IAsyncDisposable> AcquireSqliteAsync(string holder, CancellationToken cancellationToken)
    {
        var deadline = _timeProvider.GetUtcNow() + _options.LockTimeout;
        string? lastHolder = null;
        var waitLogged = false;
        while (true)
        {
            var now = _timeProvider.GetUtcNow();
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var timeoutSeconds = (int)Math.Clamp(Math.Ceiling(_options.LockTimeout.TotalSeconds), 1, int.MaxValue);
                await ExecuteWithTimeoutAsync(connection, "BEGIN EXCLUSIVE", timeoutSeconds, cancellationToken).ConfigureAwait(false);
                var committed = false;
                try
                {
                    await ExecuteWithTimeoutAsync(connection, $"CREATE TABLE IF NOT EXISTS {SqliteLockTable} (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires_at_ms BIGINT NOT NULL)", timeoutSeconds, cancellationToken).ConfigureAwait(false);
                    var nowMs = now.ToUnixTimeMilliseconds();
                    lastHolder = (string?)await Db.ScalarAsync(connection, _dialect, $"SELECT holder FROM {SqliteLockTable} WHERE id = 1 AND expires_at_ms > @p1", cancellationToken, nowMs).ConfigureAwait(false);
                    if (lastHolder is null)
                    {
                        var expires = (now + _options.SqliteLeaseDuration).ToUnixTimeMilliseconds();
                        await Db.ExecuteAsync(connection, _dialect, $"INSERT INTO {SqliteLockTable} (id, holder, expires_at_ms) VALUES (1, @p1, @p2) ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms", cancellationToken, holder, expires).ConfigureAwait(false);
                    }

                    await ExecuteWithTimeoutAsync(connection, "COMMIT", timeoutSeconds, cancellationToken).ConfigureAwait(false);
                    committed = true;
                }
                finally
                {
                    if (!committed)
                    {
                        await ExecuteWithTimeoutAsync(connection, "ROLLBACK", timeoutSeconds, CancellationToken.None).ConfigureAwait(false);
                    }
                }

                if (lastHolder is null)
                {
                    var renewal = new CancellationTokenSource();
                    var renewing = RenewSqliteLeaseAsync(holder, renewal.Token);
                    return new Releaser(async () =>
                    {
                        using (renewal)
                        {
                            await renewal.CancelAsync().ConfigureAwait(false);
                            await renewing.ConfigureAwait(false);
                        }

                        await ReleaseSqliteAsync(holder).ConfigureAwait(false);
                        MigrationsLog.LockReleased(_logger, holder);
                    });
                }

                if (!waitLogged)
                {
                    MigrationsLog.LockWaiting(_logger, lastHolder, holder, _options.LockTimeout);
                    waitLogged = true;
                }
            }

            if (_timeProvider.GetUtcNow() >= deadline)
            {
                throw new TimeoutException(
                    $"Another migrator ({lastHolder}) holds the migration lock (SQLite table {SqliteLockTable}) and did not release it within {_options.LockTimeout}. "
                    + $"A lease of a process that died expires after {_options.SqliteLeaseDuration}; to release it by hand, DELETE FROM {SqliteLockTable}.");
            }

            await Task.Delay(_options.LockPollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Renews the lease every third of its duration until cancelled; a failed renewal is logged and retried at the next tick.</summary>
    private async Task RenewSqliteLeaseAsync(string holder, CancellationToken cancellationToken)
    {
        var interval = _options.SqliteLeaseDuration / 3;
        while (true)
        {
            try
            {
                await Task.Delay(interval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                var expires = _timeProvider.GetUtcNow() + _options.SqliteLeaseDuration;
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var renewed = await Db.ExecuteAsync(
                        connection,
                        _dialect,
                        $"UPDATE {SqliteLockTable} SET expires_at_ms = @p1 WHERE id = 1 AND holder = @p2",
                        cancellationToken,
                        expires.ToUnixTimeMilliseconds(),
                        holder).ConfigureAwait(false);
                    if (renewed == 1)
                    {
                        MigrationsLog.LeaseRenewed(_logger, holder, expires);
                    }
                    else
                    {
                        MigrationsLog.LeaseRenewalFailed(_logger, holder, "the lease is no longer this holder's (it expired and another migrator took it, or it was deleted by hand)");
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (DbException ex)
            {
                MigrationsLog.LeaseRenewalFailed(_logger, holder, ex.Message);
            }
        }
    }

    private async Task ReleaseSqliteAsync(string holder)
    {
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await Db.ExecuteAsync(connection, _dialect, $"DELETE FROM {SqliteLockTable} WHERE id = 1 AND holder = @p1", CancellationToken.None, holder).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteWithTimeoutAsync(DbConnection connection, string sql, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            command.CommandTimeout = timeoutSeconds;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Releaser(Func<Task> release) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                await release().ConfigureAwait(false);
            }
        }
    }
}
