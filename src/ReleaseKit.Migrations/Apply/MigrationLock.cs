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

    public async Task<MigrationLockHandle> AcquireAsync(string holder, CancellationToken cancellationToken)
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

    private async Task<MigrationLockHandle> AcquirePostgresAsync(string holder, CancellationToken cancellationToken)
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
            var gate = new SemaphoreSlim(1, 1);
            return new MigrationLockHandle(
                holder,
                async ct =>
                {
                    // The advisory lock lives as long as its session: ask that session whether it still holds it. A session the
                    // server ended (or a broken connection) throws, which the handle records as lost.
                    await gate.WaitAsync(ct).ConfigureAwait(false);
                    try
                    {
                        var held = Convert.ToInt64(
                            await Db.ScalarAsync(
                                connection,
                                _dialect,
                                $"SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() AND classid = {AdvisoryLockKey >> 32} AND objid = {AdvisoryLockKey & 0xFFFFFFFF} AND objsubid = 1",
                                ct).ConfigureAwait(false),
                            System.Globalization.CultureInfo.InvariantCulture);
                        return held > 0 ? null : $"the session that took PostgreSQL advisory lock {AdvisoryLockKey} no longer holds it";
                    }
                    finally
                    {
                        gate.Release();
                    }
                },
                async () =>
                {
                    await using (connection.ConfigureAwait(false))
                    {
                        try
                        {
                            await Db.ExecuteAsync(connection, _dialect, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is DbException or InvalidOperationException)
                        {
                            // The session is gone (terminated, network): PostgreSQL released its advisory lock with it.
                            MigrationsLog.LockReleaseFailed(_logger, ex, holder);
                        }
                    }

                    gate.Dispose();
                    MigrationsLog.LockReleased(_logger, holder);
                });
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<MigrationLockHandle> AcquireSqliteAsync(string holder, CancellationToken cancellationToken)
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
                try
                {
                    await ExecuteWithTimeoutAsync(connection, "BEGIN EXCLUSIVE", timeoutSeconds, cancellationToken).ConfigureAwait(false);
                }
                catch (DbException ex) when (Db.IsSqliteBusy(ex))
                {
                    throw new TimeoutException(
                        $"The SQLite database stayed locked by another connection for longer than the lock timeout ({_options.LockTimeout}) while taking the migration lock (BEGIN EXCLUSIVE for table {SqliteLockTable}): "
                        + $"{ex.Message} Another process holds a long write transaction; retry when it ends, or raise FleetMigratorOptions.LockTimeout.",
                        ex);
                }

                var committed = false;
                var expires = now + _options.SqliteLeaseDuration;
                try
                {
                    await ExecuteWithTimeoutAsync(connection, $"CREATE TABLE IF NOT EXISTS {SqliteLockTable} (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires_at_ms BIGINT NOT NULL)", timeoutSeconds, cancellationToken).ConfigureAwait(false);
                    var nowMs = now.ToUnixTimeMilliseconds();
                    lastHolder = (string?)await Db.ScalarAsync(connection, _dialect, $"SELECT holder FROM {SqliteLockTable} WHERE id = 1 AND expires_at_ms > @p1", cancellationToken, nowMs).ConfigureAwait(false);
                    if (lastHolder is null)
                    {
                        await Db.ExecuteAsync(connection, _dialect, $"INSERT INTO {SqliteLockTable} (id, holder, expires_at_ms) VALUES (1, @p1, @p2) ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms", cancellationToken, holder, expires.ToUnixTimeMilliseconds()).ConfigureAwait(false);
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
                    var lease = new SqliteLease(holder, expires);
                    var renewal = new CancellationTokenSource();
                    MigrationLockHandle? handle = null;
                    handle = new MigrationLockHandle(
                        holder,
                        ct => CheckSqliteLeaseAsync(lease, ct),
                        async () =>
                        {
                            using (renewal)
                            {
                                await renewal.CancelAsync().ConfigureAwait(false);
                                await lease.Renewing.ConfigureAwait(false);
                            }

                            await ReleaseSqliteAsync(holder).ConfigureAwait(false);
                            MigrationsLog.LockReleased(_logger, holder);
                        });
                    lease.Renewing = RenewSqliteLeaseAsync(lease, handle, renewal.Token);
                    return handle;
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

    /// <summary>Reads the lease row: held while it names this holder and has not expired on this clock.</summary>
    private async Task<string?> CheckSqliteLeaseAsync(SqliteLease lease, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = Db.Command(connection, _dialect, $"SELECT holder, expires_at_ms FROM {SqliteLockTable} WHERE id = 1");
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            return $"the lease row in {SqliteLockTable} is gone (deleted by hand, or released by someone else)";
                        }

                        var current = reader.GetString(0);
                        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));
                        if (!string.Equals(current, lease.Holder, StringComparison.Ordinal))
                        {
                            return $"the lease in {SqliteLockTable} now belongs to {current} (this holder's lease expired and another migrator took it)";
                        }

                        return expiresAt <= now ? $"the lease in {SqliteLockTable} expired at {expiresAt:O} (renewal did not keep up)" : null;
                    }
                }
            }
        }
        catch (DbException ex) when (Db.IsSqliteBusy(ex))
        {
            // Another connection holds the database for a moment; the lease is held as long as its last known expiry is ahead.
            return lease.ExpiresAt > now ? null : $"the lease could not be read ({ex.Message}) and its last known expiry {lease.ExpiresAt:O} has passed";
        }
    }

    /// <summary>
    /// Renews the lease every third of its duration until cancelled. A renewal that finds the lease in someone else's name marks the
    /// handle lost; a failed renewal is logged and retried at the next tick, and marks the handle lost once the lease has expired.
    /// </summary>
    private async Task RenewSqliteLeaseAsync(SqliteLease lease, MigrationLockHandle handle, CancellationToken cancellationToken)
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
                        lease.Holder).ConfigureAwait(false);
                    if (renewed == 1)
                    {
                        lease.ExpiresAt = expires;
                        MigrationsLog.LeaseRenewed(_logger, lease.Holder, expires);
                    }
                    else
                    {
                        const string reason = "the lease is no longer this holder's (it expired and another migrator took it, or it was deleted by hand)";
                        MigrationsLog.LeaseRenewalFailed(_logger, lease.Holder, reason);
                        handle.MarkLost(reason);
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (DbException ex)
            {
                MigrationsLog.LeaseRenewalFailed(_logger, lease.Holder, ex.Message);
                if (lease.ExpiresAt <= _timeProvider.GetUtcNow())
                {
                    handle.MarkLost($"the lease expired at {lease.ExpiresAt:O} while renewals failed ({ex.Message})");
                    return;
                }
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

    private sealed class SqliteLease(string holder, DateTimeOffset expiresAt)
    {
        private long _expiresAtMs = expiresAt.ToUnixTimeMilliseconds();

        public string Holder { get; } = holder;

        public DateTimeOffset ExpiresAt
        {
            get => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref _expiresAtMs));
            set => Interlocked.Exchange(ref _expiresAtMs, value.ToUnixTimeMilliseconds());
        }

        public Task Renewing { get; set; } = Task.CompletedTask;
    }
}

/// <summary>
/// The held migration lock. <see cref="EnsureHeldAsync"/> checks that it is still held (PostgreSQL: the advisory lock's session
/// still holds it; SQLite: the lease row still names this holder and has not expired) and throws
/// <see cref="MigrationLockLostException"/> once it is not; the migrator calls it before each migration and each backfill batch.
/// </summary>
internal sealed class MigrationLockHandle : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<string?>> _check;
    private readonly Func<Task> _release;
    private string? _lostReason;
    private int _released;

    public MigrationLockHandle(string holder, Func<CancellationToken, Task<string?>> check, Func<Task> release)
    {
        Holder = holder;
        _check = check;
        _release = release;
    }

    public string Holder { get; }

    /// <summary>Why the lock was lost, or <see langword="null"/> while it is (as far as known) held.</summary>
    public string? LostReason => Volatile.Read(ref _lostReason);

    public void MarkLost(string reason) => Interlocked.CompareExchange(ref _lostReason, reason, null);

    /// <summary>Throws <see cref="MigrationLockLostException"/> when the lock is no longer held; a check that cannot be made counts as lost.</summary>
    public async Task EnsureHeldAsync(CancellationToken cancellationToken)
    {
        if (LostReason is null)
        {
            string? reason;
            try
            {
                reason = await _check(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException)
            {
                reason = $"its ownership cannot be checked ({ex.GetBaseException().Message})";
            }

            if (reason is not null)
            {
                MarkLost(reason);
            }
        }

        if (LostReason is { } lost)
        {
            throw new MigrationLockLostException(
                $"The migration lock of {Holder} was lost: {lost}. Another migrator may be applying migrations at the same time, so this one stopped. "
                + "Check which migrator runs now, then run the apply again; it resumes at the first migration (or backfill checkpoint) not yet done.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            await _release().ConfigureAwait(false);
        }
    }
}

/// <summary>The fleet-wide migration lock was lost while migrations were being applied.</summary>
internal sealed class MigrationLockLostException : InvalidOperationException
{
    public MigrationLockLostException()
    {
    }

    public MigrationLockLostException(string message)
        : base(message)
    {
    }

    public MigrationLockLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
