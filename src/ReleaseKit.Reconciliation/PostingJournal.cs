using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using ReleaseKit.Gates;

namespace ReleaseKit.Reconciliation;

/// <summary>
/// The posting journal in the table <c>releasekit_posting_journal</c> (created when missing; with
/// <c>releasekit_reconciliation_tenants</c>, <c>releasekit_reconciliation_plan_checkpoints</c> and
/// <c>releasekit_reconciliation_decisions</c>), over any
/// <see cref="DbDataSource"/> that speaks SQLite or PostgreSQL. Every status change is a compare-and-set on the row's
/// epoch (its fencing token), so a worker whose lease was taken over cannot overwrite what the new owner did.
/// </summary>
/// <remarks>Timestamps are stored as UTC ticks (a 64-bit integer) in both dialects, so that they compare exactly.</remarks>
public sealed class PostingJournal
{
    internal const string TableName = "releasekit_posting_journal";
    internal const string TenantTable = "releasekit_reconciliation_tenants";
    internal const string CheckpointTable = "releasekit_reconciliation_plan_checkpoints";
    internal const string DecisionTable = "releasekit_reconciliation_decisions";

    private const long SchemaLockKey = 0x52_4B_52_45_43_4F_4E; // "RKRECON"

    private const string Columns =
        "tenant, kind, business_key, idempotency_key, fingerprint, payload, amount, currency, release_version, occurred_at, "
        + "status, attempts, owner, lease_until, epoch, last_error, erp_reference, created_at, updated_at";

    private readonly DbDataSource _dataSource;
    private readonly TimeProvider _time;
    private Task? _schemaReady;

    /// <summary>Creates a journal.</summary>
    /// <param name="dataSource">The database (SQLite or PostgreSQL).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="dialect">The SQL dialect; detected from the data source's type when <see langword="null"/>.</param>
    public PostingJournal(DbDataSource dataSource, TimeProvider? timeProvider = null, SqlDialect? dialect = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (dialect is { } given && !Enum.IsDefined(given))
        {
            throw new ArgumentOutOfRangeException(nameof(dialect), given, "Unknown SQL dialect; allowed values are Sqlite and PostgreSql.");
        }

        _dataSource = dataSource;
        _time = timeProvider ?? TimeProvider.System;
        Dialect = dialect ?? SqlDialects.Detect(dataSource);
    }

    /// <summary>Gets the SQL dialect.</summary>
    public SqlDialect Dialect { get; }

    internal TimeProvider TimeProvider => _time;

    /// <summary>
    /// Creates the tables when missing, on a connection of its own (never inside an application's transaction). Called by
    /// every operation; call it at startup to fail early and so that no business transaction ever waits for it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task.</returns>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        var current = Volatile.Read(ref _schemaReady);
        if (current is null || current.IsFaulted || current.IsCanceled)
        {
            var created = CreateSchemaAsync();
            current = Interlocked.CompareExchange(ref _schemaReady, created, current) == current ? created : Volatile.Read(ref _schemaReady)!;
        }

        return current.IsCompletedSuccessfully ? Task.CompletedTask : current.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Journals a posting before it is sent: generates its idempotency key and stores it as <see cref="PostingStatus.Pending"/>.
    /// Journaling the same tenant, kind and business key again with the same payload and amount returns the stored entry
    /// (with its original key); with another payload or amount it throws.
    /// </summary>
    /// <param name="request">The posting.</param>
    /// <param name="transaction">The application's own transaction to join (its connection is used and nothing is committed here), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The journal entry.</returns>
    /// <exception cref="InvalidOperationException">The business key is already journaled with another payload or amount.</exception>
    public async Task<JournalEntry> RecordAsync(PostingRequest request, DbTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = _time.GetUtcNow();
        var entry = new JournalEntry(
            request.TenantId, request.Kind, request.BusinessKey, PostingKeys.NewIdempotencyKey(), PostingKeys.Fingerprint(request.Payload), request.Payload,
            request.Amount, request.ReleaseVersion, request.OccurredAt, PostingStatus.Pending, 0, null, null, 0, null, null, now, now);

        if (transaction is not null)
        {
            var connection = transaction.Connection ?? throw new ArgumentException("The transaction has no connection (was it committed or rolled back?).", nameof(transaction));
            if (Dialect == SqlDialect.PostgreSql)
            {
                // Never DDL inside the application's transaction: CREATE INDEX takes a share lock on the table even when
                // the index exists, which deadlocks concurrent business transactions that journal. The tables are created
                // once, on a connection of their own, under an advisory lock.
                await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (!(Volatile.Read(ref _schemaReady)?.IsCompletedSuccessfully ?? false))
            {
                // SQLite has one writer: the application's transaction may already hold the write lock, so a second
                // connection would wait for it. Creating the tables inside the transaction (IF NOT EXISTS) cannot deadlock.
                foreach (var ddl in SchemaStatements())
                {
                    await ExecuteAsync(connection, transaction, ddl, cancellationToken).ConfigureAwait(false);
                }
            }

            return await InsertAsync(connection, transaction, entry, cancellationToken).ConfigureAwait(false);
        }

        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var own = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (own.ConfigureAwait(false))
        {
            return await InsertAsync(own, null, entry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Finds a journaled posting.</summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="kind">The kind.</param>
    /// <param name="businessKey">The business key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entry, or <see langword="null"/>.</returns>
    /// <exception cref="InvalidDataException">The stored row is invalid (for example its idempotency key is missing).</exception>
    public async Task<JournalEntry?> FindAsync(string tenantId, PostingKind kind, string businessKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        ArgumentNullException.ThrowIfNull(businessKey);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var row = await SelectOneAsync(connection, null, tenantId, kind.Value, businessKey, cancellationToken).ConfigureAwait(false);
            return row is null ? null : row.Entry ?? throw new InvalidDataException(row.Problem);
        }
    }

    /// <summary>Reads one row as it is now (a point read, for a record the ERP returned that a journal scan did not see).</summary>
    internal async Task<JournalRow?> FindRowAsync(string tenantId, string kind, string businessKey, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await SelectOneAsync(connection, null, tenantId, kind, businessKey, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Lists the tenants that have journaled postings, in ordinal order.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The tenant ids.</returns>
    public async Task<IReadOnlyList<string>> ListTenantsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = $"SELECT DISTINCT tenant FROM {TableName}";
                var tenants = new List<string>();
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        tenants.Add(reader.GetString(0));
                    }
                }

                tenants.Sort(StringComparer.Ordinal);
                return tenants;
            }
        }
    }

    /// <summary>Reads a tenant's rows with a posting date in <c>[from, to)</c> in kind and business-key order, page by page (keyset paging).</summary>
    internal async IAsyncEnumerable<JournalRow> ReadRowsAsync(string tenantId, PostingKind? kind, DateTimeOffset from, DateTimeOffset to, int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        string? lastKind = null;
        string? lastKey = null;
        var page = new List<JournalRow>(pageSize);
        while (true)
        {
            page.Clear();
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = connection.CreateCommand();
                await using (command.ConfigureAwait(false))
                {
                    var sql = $"SELECT {Columns} FROM {TableName} WHERE tenant = {P(1)} AND occurred_at >= {P(2)} AND occurred_at < {P(3)}";
                    AddParameter(command, 1, tenantId);
                    AddParameter(command, 2, from.UtcTicks, DbType.Int64);
                    AddParameter(command, 3, to.UtcTicks, DbType.Int64);
                    var next = 4;
                    if (kind is { } k)
                    {
                        sql += $" AND kind = {P(next)}";
                        AddParameter(command, next++, k.Value);
                    }

                    if (lastKind is not null)
                    {
                        sql += $" AND (kind{Collate} > {P(next)} OR (kind = {P(next)} AND business_key{Collate} > {P(next + 1)}))";
                        AddParameter(command, next++, lastKind);
                        AddParameter(command, next++, lastKey);
                    }

                    command.CommandText = sql + $" ORDER BY kind{Collate}, business_key{Collate} LIMIT {pageSize.ToString(CultureInfo.InvariantCulture)}";
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            page.Add(ReadRow(reader));
                        }
                    }
                }
            }

            foreach (var row in page)
            {
                yield return row;
            }

            if (page.Count < pageSize)
            {
                yield break;
            }

            lastKind = page[^1].Kind;
            lastKey = page[^1].BusinessKey;
        }
    }

    /// <summary>Claims a posting to send it: pending, acknowledged-but-missing or in flight with an expired lease, and still at <paramref name="expectedEpoch"/>.</summary>
    /// <returns>The new epoch (the fencing token of this claim), or <see langword="null"/> when the row changed or someone else holds it.</returns>
    internal Task<long?> TryClaimAsync(JournalEntry entry, long expectedEpoch, string owner, TimeSpan lease, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        var now = _time.GetUtcNow();
        return UpdateReturningEpochAsync(
            $"status = 'in_flight', owner = {P(5)}, lease_until = {P(6)}, epoch = epoch + 1, attempts = attempts + 1, updated_at = {P(7)}, last_error = NULL",
            $"(status IN ('pending', 'acknowledged') OR (status = 'in_flight' AND lease_until < {P(7)}))",
            entry,
            expectedEpoch,
            cmd =>
            {
                AddParameter(cmd, 5, owner);
                AddParameter(cmd, 6, (now + lease).UtcTicks, DbType.Int64);
                AddParameter(cmd, 7, now.UtcTicks, DbType.Int64);
            },
            cancellationToken,
            transaction);
    }

    /// <summary>Bumps the epoch of a row nobody holds (to fence a compensation or a journal-only repair).</summary>
    internal Task<long?> TryFenceAsync(JournalEntry entry, long expectedEpoch, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        return UpdateReturningEpochAsync(
            $"epoch = epoch + 1, updated_at = {P(5)}",
            $"NOT (status = 'in_flight' AND lease_until >= {P(5)})",
            entry,
            expectedEpoch,
            cmd => AddParameter(cmd, 5, now.UtcTicks, DbType.Int64),
            cancellationToken);
    }

    /// <summary>Whether <paramref name="owner"/> still holds the posting at <paramref name="epoch"/> with a live lease.</summary>
    internal async Task<bool> IsStillOwnerAsync(JournalEntry entry, long epoch, string owner, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText =
                    $"SELECT COUNT(*) FROM {TableName} WHERE tenant = {P(1)} AND kind = {P(2)} AND business_key = {P(3)} AND epoch = {P(4)} AND status = 'in_flight' AND owner = {P(5)} AND lease_until >= {P(6)}";
                AddParameter(command, 1, entry.TenantId);
                AddParameter(command, 2, entry.Kind.Value);
                AddParameter(command, 3, entry.BusinessKey);
                AddParameter(command, 4, epoch, DbType.Int64);
                AddParameter(command, 5, owner);
                AddParameter(command, 6, now.UtcTicks, DbType.Int64);
                return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) == 1;
            }
        }
    }

    /// <summary>Marks a posting acknowledged by the ERP, if the epoch is still <paramref name="epoch"/>.</summary>
    internal async Task<bool> TryAcknowledgeAsync(JournalEntry entry, long epoch, string erpReference, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        var now = _time.GetUtcNow();
        return await UpdateReturningEpochAsync(
            $"status = 'acknowledged', owner = NULL, lease_until = NULL, erp_reference = {P(5)}, last_error = NULL, updated_at = {P(6)}",
            "1 = 1",
            entry,
            epoch,
            cmd =>
            {
                AddParameter(cmd, 5, erpReference);
                AddParameter(cmd, 6, now.UtcTicks, DbType.Int64);
            },
            cancellationToken,
            transaction).ConfigureAwait(false) is not null;
    }

    /// <summary>Ends a claim: <paramref name="status"/> is failed (definite rejection) or pending (give up for now), if the epoch is still <paramref name="epoch"/>.</summary>
    internal async Task<bool> TryEndClaimAsync(JournalEntry entry, long epoch, PostingStatus status, string reason, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        return await UpdateReturningEpochAsync(
            $"status = {P(5)}, owner = NULL, lease_until = NULL, last_error = {P(6)}, updated_at = {P(7)}",
            "status = 'in_flight'",
            entry,
            epoch,
            cmd =>
            {
                AddParameter(cmd, 5, StatusText(status));
                AddParameter(cmd, 6, reason);
                AddParameter(cmd, 7, now.UtcTicks, DbType.Int64);
            },
            cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>Marks a posting cancelled: whatever the ERP holds of it will be reversed by the next reconciliation.</summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="kind">The kind.</param>
    /// <param name="businessKey">The business key.</param>
    /// <param name="reason">Why it is cancelled.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when it was marked; <see langword="false"/> when it is not journaled or is in flight.</returns>
    public async Task<bool> MarkCompensatedAsync(string tenantId, PostingKind kind, string businessKey, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var entry = await FindAsync(tenantId, kind, businessKey, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return false;
        }

        var now = _time.GetUtcNow();
        return await UpdateReturningEpochAsync(
            $"status = 'compensated', owner = NULL, lease_until = NULL, epoch = epoch + 1, last_error = {P(5)}, updated_at = {P(6)}",
            $"NOT (status = 'in_flight' AND lease_until >= {P(6)})",
            entry,
            entry.Epoch,
            cmd =>
            {
                AddParameter(cmd, 5, reason);
                AddParameter(cmd, 6, now.UtcTicks, DbType.Int64);
            },
            cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>Claims a tenant for a reconciliation worker (PostgreSQL: <c>FOR UPDATE SKIP LOCKED</c>); null when another worker holds it.</summary>
    internal async Task<long?> TryClaimTenantAsync(string tenantId, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var insert = connection.CreateCommand();
            await using (insert.ConfigureAwait(false))
            {
                insert.CommandText = $"INSERT INTO {TenantTable} (tenant, owner, lease_until, epoch) VALUES ({P(1)}, NULL, NULL, 0) ON CONFLICT (tenant) DO NOTHING";
                AddParameter(insert, 1, tenantId);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var claim = connection.CreateCommand();
            await using (claim.ConfigureAwait(false))
            {
                var free = $"tenant = {P(1)} AND (lease_until IS NULL OR lease_until < {P(3)})";
                var where = Dialect == SqlDialect.PostgreSql
                    ? $"tenant = (SELECT tenant FROM {TenantTable} WHERE {free} FOR UPDATE SKIP LOCKED)"
                    : free;
                claim.CommandText = $"UPDATE {TenantTable} SET owner = {P(2)}, lease_until = {P(4)}, epoch = epoch + 1 WHERE {where} RETURNING epoch";
                AddParameter(claim, 1, tenantId);
                AddParameter(claim, 2, owner);
                AddParameter(claim, 3, now.UtcTicks, DbType.Int64);
                AddParameter(claim, 4, (now + lease).UtcTicks, DbType.Int64);
                var result = await claim.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                return result is null or DBNull ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>Renews (<paramref name="lease"/> &gt; 0) or releases (zero) a tenant claim; false when another worker took it over.</summary>
    internal async Task<bool> TryRenewTenantAsync(string tenantId, long epoch, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = lease > TimeSpan.Zero
                    ? $"UPDATE {TenantTable} SET lease_until = {P(3)} WHERE tenant = {P(1)} AND epoch = {P(2)}"
                    : $"UPDATE {TenantTable} SET lease_until = NULL, owner = NULL WHERE tenant = {P(1)} AND epoch = {P(2)}";
                AddParameter(command, 1, tenantId);
                AddParameter(command, 2, epoch, DbType.Int64);
                if (lease > TimeSpan.Zero)
                {
                    AddParameter(command, 3, (now + lease).UtcTicks, DbType.Int64);
                }

                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            }
        }
    }

    internal async Task<string?> GetCheckpointAsync(string runId, string planId, string tenantId, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = $"SELECT position FROM {CheckpointTable} WHERE run_id = {P(1)} AND plan_id = {P(2)} AND tenant = {P(3)}";
                AddParameter(command, 1, runId);
                AddParameter(command, 2, planId);
                AddParameter(command, 3, tenantId);
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            }
        }
    }

    internal async Task SaveCheckpointAsync(string runId, string planId, string tenantId, string position, CancellationToken cancellationToken, DbTransaction transaction)
    {
        var command = transaction.Connection!.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
            command.CommandText =
                $"INSERT INTO {CheckpointTable} (run_id, plan_id, tenant, position, updated_at) VALUES ({P(1)}, {P(2)}, {P(3)}, {P(4)}, {P(5)}) "
                + "ON CONFLICT (run_id, plan_id, tenant) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at";
            AddParameter(command, 1, runId);
            AddParameter(command, 2, planId);
            AddParameter(command, 3, tenantId);
            AddParameter(command, 4, position);
            AddParameter(command, 5, _time.GetUtcNow().UtcTicks, DbType.Int64);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Counts the postings not acknowledged (pending, in flight, failed) journaled before <paramref name="olderThan"/>, by status, with the oldest.</summary>
    internal async Task<IReadOnlyList<(PostingStatus Status, long Count, DateTimeOffset Oldest)>> CountBacklogAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText =
                    $"SELECT status, COUNT(*), MIN(created_at) FROM {TableName} WHERE status IN ('pending', 'in_flight', 'failed') AND created_at < {P(1)} GROUP BY status ORDER BY status";
                AddParameter(command, 1, olderThan.UtcTicks, DbType.Int64);
                var result = new List<(PostingStatus, long, DateTimeOffset)>();
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var status = ParseStatus(reader.GetString(0)) ?? throw new InvalidDataException($"{TableName} holds the unknown status '{reader.GetString(0)}'.");
                        result.Add((status, reader.GetInt64(1), new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero)));
                    }
                }

                return result;
            }
        }
    }

    private const string DecisionColumns = "tenant, kind, business_key, class, fingerprint, decision, decided_by, reason, decided_on, decided_at";

    /// <summary>Stores a decision; the same decision on the same discrepancy again keeps the first one. Returns the stored decision.</summary>
    internal async Task<ReconciliationDecision> SaveDecisionAsync(ReconciliationDecision decision, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var insert = connection.CreateCommand();
            await using (insert.ConfigureAwait(false))
            {
                insert.CommandText =
                    $"INSERT INTO {DecisionTable} ({DecisionColumns}) VALUES ({string.Join(", ", Enumerable.Range(1, 10).Select(P))}) "
                    + "ON CONFLICT (tenant, kind, business_key, class, fingerprint) DO NOTHING";
                AddParameter(insert, 1, decision.TenantId);
                AddParameter(insert, 2, decision.Kind);
                AddParameter(insert, 3, decision.BusinessKey);
                AddParameter(insert, 4, decision.Class.ToString());
                AddParameter(insert, 5, decision.Fingerprint);
                AddParameter(insert, 6, ReconciliationDecision.Text(decision.Decision));
                AddParameter(insert, 7, decision.DecidedBy);
                AddParameter(insert, 8, decision.Reason);
                AddParameter(insert, 9, decision.DecidedOn);
                AddParameter(insert, 10, decision.DecidedAt.UtcTicks, DbType.Int64);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var select = connection.CreateCommand();
            await using (select.ConfigureAwait(false))
            {
                select.CommandText =
                    $"SELECT {DecisionColumns} FROM {DecisionTable} WHERE tenant = {P(1)} AND kind = {P(2)} AND business_key = {P(3)} AND class = {P(4)} AND fingerprint = {P(5)}";
                AddParameter(select, 1, decision.TenantId);
                AddParameter(select, 2, decision.Kind);
                AddParameter(select, 3, decision.BusinessKey);
                AddParameter(select, 4, decision.Class.ToString());
                AddParameter(select, 5, decision.Fingerprint);
                var stored = await ReadDecisionsAsync(select, cancellationToken).ConfigureAwait(false);
                return stored.Count == 1
                    ? stored[0]
                    : throw new InvalidDataException($"The decision on {decision.TenantId}/{decision.Kind}/{decision.BusinessKey} was not stored in {DecisionTable} and cannot be read back.");
            }
        }
    }

    /// <summary>Reads the decisions of the given tenants (every tenant when <see langword="null"/>), by tenant, kind, business key and time.</summary>
    internal async Task<IReadOnlyList<ReconciliationDecision>> ReadDecisionsAsync(IReadOnlyCollection<string>? tenantIds, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var result = new List<ReconciliationDecision>();
            IEnumerable<string?> tenants = tenantIds ?? (IEnumerable<string?>)[null];
            foreach (var tenant in tenants)
            {
                var command = connection.CreateCommand();
                await using (command.ConfigureAwait(false))
                {
                    command.CommandText = $"SELECT {DecisionColumns} FROM {DecisionTable}"
                        + (tenant is null ? string.Empty : $" WHERE tenant = {P(1)}")
                        + $" ORDER BY tenant{Collate}, kind{Collate}, business_key{Collate}, decided_at";
                    if (tenant is not null)
                    {
                        AddParameter(command, 1, tenant);
                    }

                    result.AddRange(await ReadDecisionsAsync(command, cancellationToken).ConfigureAwait(false));
                }
            }

            return result;
        }
    }

    /// <summary>
    /// Counts the failed postings journaled before <paramref name="olderThan"/> that a person accepted as they are (a
    /// decision on the <see cref="DiscrepancyClass.Rejected"/> discrepancy whose fingerprint still matches).
    /// </summary>
    internal async Task<long> CountAcceptedFailuresAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                var qualified = string.Join(", ", Columns.Split(", ").Select(c => "j." + c));
                command.CommandText =
                    $"SELECT {qualified}, d.fingerprint FROM {TableName} j JOIN {DecisionTable} d "
                    + $"ON d.tenant = j.tenant AND d.kind = j.kind AND d.business_key = j.business_key AND d.class = {P(2)} "
                    + $"WHERE j.status = 'failed' AND j.created_at < {P(1)}";
                AddParameter(command, 1, olderThan.UtcTicks, DbType.Int64);
                AddParameter(command, 2, nameof(DiscrepancyClass.Rejected));
                var accepted = new HashSet<(string, string, string)>();
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var row = ReadRow(reader);
                        if (row.Entry is { } entry
                            && DiffEngine.Classify(entry.TenantId, row, [], olderThan) is { Class: DiscrepancyClass.Rejected } rejected
                            && string.Equals(ReconciliationDecision.FingerprintOf(rejected), reader.GetString(19), StringComparison.Ordinal))
                        {
                            accepted.Add((entry.TenantId, entry.Kind.Value, entry.BusinessKey));
                        }
                    }
                }

                return accepted.Count;
            }
        }
    }

    private static async Task<List<ReconciliationDecision>> ReadDecisionsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var result = new List<ReconciliationDecision>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var where = $"Decision on {reader.GetString(0)}/{reader.GetString(1)}/{reader.GetString(2)} in {DecisionTable}";
                var @class = Enum.TryParse<DiscrepancyClass>(reader.GetString(3), out var c) && Enum.IsDefined(c)
                    ? c
                    : throw new InvalidDataException($"{where} has the unknown class '{reader.GetString(3)}'.");
                var decision = ReconciliationDecision.ParseKind(reader.GetString(5))
                    ?? throw new InvalidDataException($"{where} has the unknown decision '{reader.GetString(5)}'; allowed values are accept_as_is.");
                result.Add(new ReconciliationDecision(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), @class, reader.GetString(4), decision,
                    reader.GetString(6), reader.GetString(7), reader.GetString(8), new DateTimeOffset(reader.GetInt64(9), TimeSpan.Zero)));
            }
        }

        return result;
    }

    /// <inheritdoc />
    public override string ToString() => $"{(Dialect == SqlDialect.PostgreSql ? "PostgreSQL" : "SQLite")} table {TableName}";

    internal static string StatusText(PostingStatus status) => status switch
    {
        PostingStatus.Pending => "pending",
        PostingStatus.InFlight => "in_flight",
        PostingStatus.Acknowledged => "acknowledged",
        PostingStatus.Failed => "failed",
        PostingStatus.Compensated => "compensated",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown posting status."),
    };

    private static PostingStatus? ParseStatus(string text) => text switch
    {
        "pending" => PostingStatus.Pending,
        "in_flight" => PostingStatus.InFlight,
        "acknowledged" => PostingStatus.Acknowledged,
        "failed" => PostingStatus.Failed,
        "compensated" => PostingStatus.Compensated,
        _ => null,
    };

    private string Collate => Dialect == SqlDialect.PostgreSql ? " COLLATE \"C\"" : string.Empty;

    private async Task<long?> UpdateReturningEpochAsync(string set, string condition, JournalEntry entry, long expectedEpoch, Action<DbCommand> parameters, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        if (transaction is not null)
        {
            return await UpdateReturningEpochAsync(transaction.Connection!, transaction, set, condition, entry, expectedEpoch, parameters, cancellationToken).ConfigureAwait(false);
        }

        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await UpdateReturningEpochAsync(connection, null, set, condition, entry, expectedEpoch, parameters, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<long?> UpdateReturningEpochAsync(DbConnection connection, DbTransaction? transaction, string set, string condition, JournalEntry entry, long expectedEpoch, Action<DbCommand> parameters, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
            command.CommandText =
                $"UPDATE {TableName} SET {set} WHERE tenant = {P(1)} AND kind = {P(2)} AND business_key = {P(3)} AND epoch = {P(4)} AND {condition} RETURNING epoch";
            AddParameter(command, 1, entry.TenantId);
            AddParameter(command, 2, entry.Kind.Value);
            AddParameter(command, 3, entry.BusinessKey);
            AddParameter(command, 4, expectedEpoch, DbType.Int64);
            parameters(command);
            var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return result is null or DBNull ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Runs several journal writes in one transaction (one commit), for replay batches.</summary>
    internal async Task<T> InTransactionAsync<T>(Func<DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var result = await work(transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    private async Task<JournalEntry> InsertAsync(DbConnection connection, DbTransaction? transaction, JournalEntry entry, CancellationToken cancellationToken)
    {
        var insert = connection.CreateCommand();
        await using (insert.ConfigureAwait(false))
        {
            insert.Transaction = transaction;
            insert.CommandText =
                $"INSERT INTO {TableName} ({Columns}) VALUES ({string.Join(", ", Enumerable.Range(1, 19).Select(P))}) "
                + "ON CONFLICT (tenant, kind, business_key) DO NOTHING";
            AddParameter(insert, 1, entry.TenantId);
            AddParameter(insert, 2, entry.Kind.Value);
            AddParameter(insert, 3, entry.BusinessKey);
            AddParameter(insert, 4, entry.IdempotencyKey);
            AddParameter(insert, 5, entry.PayloadFingerprint);
            AddParameter(insert, 6, entry.Payload);
            AddParameter(insert, 7, entry.Amount.AmountText);
            AddParameter(insert, 8, entry.Amount.Currency);
            AddParameter(insert, 9, entry.ReleaseVersion);
            AddParameter(insert, 10, entry.OccurredAt.UtcTicks, DbType.Int64);
            AddParameter(insert, 11, StatusText(entry.Status));
            AddParameter(insert, 12, entry.Attempts, DbType.Int32);
            AddParameter(insert, 13, null);
            AddParameter(insert, 14, null, DbType.Int64);
            AddParameter(insert, 15, entry.Epoch, DbType.Int64);
            AddParameter(insert, 16, null);
            AddParameter(insert, 17, null);
            AddParameter(insert, 18, entry.CreatedAt.UtcTicks, DbType.Int64);
            AddParameter(insert, 19, entry.UpdatedAt.UtcTicks, DbType.Int64);
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
            {
                return entry;
            }
        }

        var stored = await SelectOneAsync(connection, transaction, entry.TenantId, entry.Kind.Value, entry.BusinessKey, cancellationToken).ConfigureAwait(false);
        if (stored?.Entry is not { } existing)
        {
            throw new InvalidDataException(stored?.Problem ?? $"The posting {entry.TenantId}/{entry.Kind}/{entry.BusinessKey} was not inserted into {TableName} and cannot be read back.");
        }

        if (existing.PayloadFingerprint != entry.PayloadFingerprint || existing.Amount != entry.Amount)
        {
            throw new InvalidOperationException(
                $"Posting {entry.Kind} '{entry.BusinessKey}' of tenant '{entry.TenantId}' is already journaled (idempotency key {existing.IdempotencyKey}, {existing.Amount}, payload {existing.PayloadFingerprint[..12]}) "
                + $"with another payload or amount ({entry.Amount}, payload {entry.PayloadFingerprint[..12]}); a changed posting needs a new business key or a compensation.");
        }

        return existing;
    }

    private async Task<JournalRow?> SelectOneAsync(DbConnection connection, DbTransaction? transaction, string tenantId, string kind, string businessKey, CancellationToken cancellationToken)
    {
        var select = connection.CreateCommand();
        await using (select.ConfigureAwait(false))
        {
            select.Transaction = transaction;
            select.CommandText = $"SELECT {Columns} FROM {TableName} WHERE tenant = {P(1)} AND kind = {P(2)} AND business_key = {P(3)}";
            AddParameter(select, 1, tenantId);
            AddParameter(select, 2, kind);
            AddParameter(select, 3, businessKey);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRow(reader) : null;
            }
        }
    }

    private static JournalRow ReadRow(DbDataReader reader)
    {
        var tenant = reader.GetString(0);
        var kind = reader.GetString(1);
        var businessKey = reader.GetString(2);
        var where = $"Journal row {tenant}/{kind}/{businessKey} in {TableName}";
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        long? Number(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);

        var problem = PostingKeys.Problem(kind) is { } p1 ? $"{where}: kind is invalid: {p1}"
            : PostingKeys.Problem(businessKey) is { } p2 ? $"{where}: business key is invalid: {p2}"
            : string.IsNullOrWhiteSpace(Text(3)) ? $"{where} has no idempotency key; it cannot be replayed safely."
            : string.IsNullOrWhiteSpace(Text(4)) ? $"{where} has no payload fingerprint."
            : ParseStatus(Text(10) ?? string.Empty) is null ? $"{where} has the unknown status '{Text(10)}'."
            : null;
        Money amount = default;
        if (problem is null)
        {
            try
            {
                amount = new Money(decimal.Parse(Text(6) ?? "x", NumberStyles.Number, CultureInfo.InvariantCulture), Text(7) ?? string.Empty);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
            {
                problem = $"{where} has an invalid amount '{Text(6)} {Text(7)}': {ex.Message}";
            }
        }

        if (problem is not null)
        {
            return new JournalRow(kind, businessKey, null, problem);
        }

        var lease = Number(13);
        var entry = new JournalEntry(
            tenant,
            new PostingKind(kind),
            businessKey,
            Text(3)!,
            Text(4)!,
            Text(5) ?? string.Empty,
            amount,
            Text(8) ?? string.Empty,
            new DateTimeOffset(reader.GetInt64(9), TimeSpan.Zero),
            ParseStatus(Text(10)!)!.Value,
            (int)reader.GetInt64(11),
            Text(12),
            lease is { } l ? new DateTimeOffset(l, TimeSpan.Zero) : null,
            reader.GetInt64(14),
            Text(15),
            Text(16),
            new DateTimeOffset(reader.GetInt64(17), TimeSpan.Zero),
            new DateTimeOffset(reader.GetInt64(18), TimeSpan.Zero));
        return new JournalRow(kind, businessKey, entry, null);
    }

    private IEnumerable<string> SchemaStatements()
    {
        var collate = Dialect == SqlDialect.PostgreSql ? " COLLATE \"C\"" : string.Empty;
        yield return
            $"CREATE TABLE IF NOT EXISTS {TableName} ("
            + "tenant TEXT NOT NULL, "
            + $"kind TEXT{collate} NOT NULL, "
            + $"business_key TEXT{collate} NOT NULL, "
            + "idempotency_key TEXT NOT NULL, "
            + "fingerprint TEXT NOT NULL, "
            + "payload TEXT NOT NULL, "
            + "amount TEXT NOT NULL, "
            + "currency TEXT NOT NULL, "
            + "release_version TEXT NOT NULL, "
            + "occurred_at BIGINT NOT NULL, "
            + "status TEXT NOT NULL, "
            + "attempts BIGINT NOT NULL, "
            + "owner TEXT NULL, "
            + "lease_until BIGINT NULL, "
            + "epoch BIGINT NOT NULL, "
            + "last_error TEXT NULL, "
            + "erp_reference TEXT NULL, "
            + "created_at BIGINT NOT NULL, "
            + "updated_at BIGINT NOT NULL, "
            + $"CONSTRAINT {TableName}_pk PRIMARY KEY (tenant, kind, business_key))";
        yield return $"CREATE UNIQUE INDEX IF NOT EXISTS {TableName}_key ON {TableName} (tenant, idempotency_key)";
        yield return $"CREATE INDEX IF NOT EXISTS {TableName}_backlog ON {TableName} (status, created_at)";
        yield return $"CREATE TABLE IF NOT EXISTS {TenantTable} (tenant TEXT NOT NULL PRIMARY KEY, owner TEXT NULL, lease_until BIGINT NULL, epoch BIGINT NOT NULL)";
        yield return $"CREATE TABLE IF NOT EXISTS {CheckpointTable} (run_id TEXT NOT NULL, plan_id TEXT NOT NULL, tenant TEXT NOT NULL, position TEXT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (run_id, plan_id, tenant))";
        yield return
            $"CREATE TABLE IF NOT EXISTS {DecisionTable} ("
            + "tenant TEXT NOT NULL, "
            + $"kind TEXT{collate} NOT NULL, "
            + $"business_key TEXT{collate} NOT NULL, "
            + "class TEXT NOT NULL, "
            + "fingerprint TEXT NOT NULL, "
            + "decision TEXT NOT NULL, "
            + "decided_by TEXT NOT NULL, "
            + "reason TEXT NOT NULL, "
            + "decided_on TEXT NOT NULL, "
            + "decided_at BIGINT NOT NULL, "
            + $"CONSTRAINT {DecisionTable}_pk PRIMARY KEY (tenant, kind, business_key, class, fingerprint))";
    }

    private async Task CreateSchemaAsync()
    {
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (Dialect == SqlDialect.PostgreSql && await SchemaExistsAsync(connection).ConfigureAwait(false))
            {
                return; // no DDL at all: even IF NOT EXISTS statements take locks that wait for open business transactions
            }

            var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                if (Dialect == SqlDialect.PostgreSql)
                {
                    await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({SchemaLockKey})", CancellationToken.None).ConfigureAwait(false);
                }

                foreach (var ddl in SchemaStatements())
                {
                    await ExecuteAsync(connection, transaction, ddl, CancellationToken.None).ConfigureAwait(false);
                }

                await transaction.CommitAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<bool> SchemaExistsAsync(DbConnection connection)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            string[] relations = [TableName, $"{TableName}_key", $"{TableName}_backlog", TenantTable, CheckpointTable, DecisionTable];
            command.CommandText = "SELECT " + string.Join(" AND ", relations.Select(r => $"to_regclass('{r}') IS NOT NULL"));
            return await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is true;
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private string P(int position) => Dialect.Placeholder(position);

    private void AddParameter(DbCommand command, int position, object? value, DbType type = DbType.String) =>
        command.AddParameter(Dialect, position, value, type);
}

/// <summary>A journal row as read: an entry, or the problem that makes it unusable.</summary>
internal sealed record JournalRow(string Kind, string BusinessKey, JournalEntry? Entry, string? Problem);
