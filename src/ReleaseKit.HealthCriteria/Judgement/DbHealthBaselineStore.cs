using System.Data;
using System.Data.Common;
using ReleaseKit.Gates;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// An <see cref="IHealthBaselineStore"/> in the table <c>releasekit_health_baselines</c> (created when missing) over any
/// <see cref="DbDataSource"/> that speaks SQLite or PostgreSQL, so the next release finds its baseline after a deploy
/// replaced every process. One row per release and window holds the serialised <see cref="WindowSnapshot"/>; saving the
/// same release and window again replaces it. The baseline is the snapshot of another release whose window started
/// last (the previous deploy), ties broken by the latest save.
/// </summary>
public sealed class DbHealthBaselineStore : IHealthBaselineStore
{
    /// <summary>The table's name.</summary>
    public const string TableName = "releasekit_health_baselines";

    // Serializes CREATE TABLE IF NOT EXISTS across processes on PostgreSQL, where two concurrent ones can collide.
    private const long SchemaLockKey = 0x52_4B_48_42_41_53_45; // "RKHBASE"

    private readonly DbDataSource _dataSource;
    private readonly TimeProvider _timeProvider;
    private readonly SqlSchemaInitializer _schema;

    /// <summary>Creates the store.</summary>
    /// <param name="dataSource">The database (SQLite or PostgreSQL).</param>
    /// <param name="dialect">The SQL dialect, or <see langword="null"/> to detect it from <paramref name="dataSource"/>.</param>
    /// <param name="timeProvider">Stamps each save; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public DbHealthBaselineStore(DbDataSource dataSource, SqlDialect? dialect = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (dialect is { } given && !Enum.IsDefined(given))
        {
            throw new ArgumentOutOfRangeException(nameof(dialect), given, "Unknown SQL dialect: use SqlDialect.Sqlite or SqlDialect.PostgreSql.");
        }

        _dataSource = dataSource;
        _timeProvider = timeProvider ?? TimeProvider.System;
        Dialect = dialect ?? SqlDialects.Detect(dataSource);
        _schema = new SqlSchemaInitializer(
            dataSource,
            Dialect,
            SchemaLockKey,
            $"CREATE TABLE IF NOT EXISTS {TableName} ("
            + "window_name TEXT NOT NULL, "
            + "release_id TEXT NOT NULL, "
            + "window_start_ticks BIGINT NOT NULL, "
            + "saved_at_ticks BIGINT NOT NULL, "
            + $"snapshot {(Dialect == SqlDialect.PostgreSql ? "bytea" : "BLOB")} NOT NULL, "
            + $"CONSTRAINT {TableName}_pk PRIMARY KEY (window_name, release_id))");
    }

    /// <summary>Gets the SQL dialect the store speaks.</summary>
    public SqlDialect Dialect { get; }

    /// <inheritdoc />
    public async ValueTask SaveAsync(WindowSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var bytes = snapshot.ToBytes();
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var upsert = connection.CreateCommand();
            await using (upsert.ConfigureAwait(false))
            {
                upsert.CommandText =
                    $"INSERT INTO {TableName} (window_name, release_id, window_start_ticks, saved_at_ticks, snapshot) "
                    + $"VALUES ({P(1)}, {P(2)}, {P(3)}, {P(4)}, {P(5)}) "
                    + "ON CONFLICT (window_name, release_id) DO UPDATE SET window_start_ticks = excluded.window_start_ticks, "
                    + "saved_at_ticks = excluded.saved_at_ticks, snapshot = excluded.snapshot";
                upsert.AddParameter(Dialect, 1, snapshot.WindowName);
                upsert.AddParameter(Dialect, 2, snapshot.ReleaseId);
                upsert.AddParameter(Dialect, 3, snapshot.Start.UtcTicks, DbType.Int64);
                upsert.AddParameter(Dialect, 4, _timeProvider.GetUtcNow().UtcTicks, DbType.Int64);
                upsert.AddParameter(Dialect, 5, bytes, DbType.Binary);
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The stored row does not hold a readable snapshot (the message names the release and window).</exception>
    public async ValueTask<WindowSnapshot?> FindBaselineAsync(string windowName, string currentReleaseId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(windowName);
        ArgumentException.ThrowIfNullOrWhiteSpace(currentReleaseId);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var select = connection.CreateCommand();
            await using (select.ConfigureAwait(false))
            {
                select.CommandText =
                    $"SELECT release_id, snapshot FROM {TableName} WHERE window_name = {P(1)} AND release_id <> {P(2)} "
                    + "ORDER BY window_start_ticks DESC, saved_at_ticks DESC LIMIT 1";
                select.AddParameter(Dialect, 1, windowName);
                select.AddParameter(Dialect, 2, currentReleaseId);
                var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }

                    var releaseId = reader.GetString(0);
                    var bytes = reader.GetFieldValue<byte[]>(1);
                    try
                    {
                        return WindowSnapshot.FromBytes(bytes);
                    }
                    catch (InvalidDataException ex)
                    {
                        throw new InvalidDataException($"The baseline of release '{releaseId}', window '{windowName}', in {TableName} cannot be read: {ex.Message}", ex);
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{(Dialect == SqlDialect.PostgreSql ? "PostgreSQL" : "SQLite")} table {TableName}";

    private string P(int position) => Dialect.Placeholder(position);

    private Task EnsureSchemaAsync(CancellationToken cancellationToken) => _schema.EnsureCreatedAsync(cancellationToken);
}
