using System.Data;
using System.Data.Common;

namespace ReleaseKit.Gates;

/// <summary>
/// An <see cref="IArtifactRecordStore"/> in the table <c>releasekit_artifact_records</c> (created when missing), over
/// any <see cref="DbDataSource"/> that speaks SQLite or PostgreSQL. A record is inserted with
/// <c>ON CONFLICT DO NOTHING</c> and read back, so of two writers racing with different digests exactly one wins and
/// the other gets <see cref="ArtifactRecordConflictException"/>.
/// </summary>
internal sealed class ArtifactRecordDbStore : IArtifactRecordStore
{
    internal const string TableName = "releasekit_artifact_records";

    // Serializes CREATE TABLE IF NOT EXISTS across processes on PostgreSQL, where two concurrent ones can collide.
    private const long SchemaLockKey = 0x52_4B_41_52_54_49_46; // "RKARTIF"

    private const string Columns = "release_id, version, environment, artifact_digest, recorded_at, recorded_by";

    private readonly DbDataSource _dataSource;
    private readonly SqlSchemaInitializer _schema;

    public ArtifactRecordDbStore(DbDataSource dataSource, SqlDialect? dialect = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (dialect is { } given)
        {
            SqlDialects.ThrowIfUndefined(given, nameof(dialect));
        }

        _dataSource = dataSource;
        Dialect = dialect ?? SqlDialects.Detect(dataSource);
        var timestampType = Dialect == SqlDialect.PostgreSql ? "timestamptz" : "TEXT";
        _schema = new SqlSchemaInitializer(
            dataSource,
            Dialect,
            SchemaLockKey,
            $"CREATE TABLE IF NOT EXISTS {TableName} ("
            + "release_id TEXT NOT NULL, "
            + "version TEXT NOT NULL, "
            + "environment TEXT NOT NULL, "
            + "artifact_digest TEXT NOT NULL, "
            + $"recorded_at {timestampType} NOT NULL, "
            + "recorded_by TEXT NULL, "
            + $"CONSTRAINT {TableName}_pk PRIMARY KEY (release_id, version, environment))");
    }

    public SqlDialect Dialect { get; }

    public async Task<ArtifactRecord> RecordAsync(ArtifactRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var insert = connection.CreateCommand();
            await using (insert.ConfigureAwait(false))
            {
                insert.CommandText =
                    $"INSERT INTO {TableName} ({Columns}) VALUES ({P(1)}, {P(2)}, {P(3)}, {P(4)}, {P(5)}, {P(6)}) "
                    + "ON CONFLICT (release_id, version, environment) DO NOTHING";
                AddParameter(insert, 1, record.ReleaseId);
                AddParameter(insert, 2, record.Version);
                AddParameter(insert, 3, record.Environment);
                AddParameter(insert, 4, record.ArtifactDigest);
                AddParameter(insert, 5, record.RecordedAt, DbType.DateTimeOffset);
                AddParameter(insert, 6, record.RecordedBy);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // Whether this writer won or another did, the row now holds the one digest that counts.
            var stored = await SelectAsync(connection, record.ReleaseId, record.Version, record.Environment, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The artifact record of {record.ReleaseId} ({record.Version}) in '{record.Environment}' was inserted but cannot be read back from {TableName}.");
            return stored.ArtifactDigest == record.ArtifactDigest ? stored : throw new ArtifactRecordConflictException(stored, record);
        }
    }

    public async Task<ArtifactRecord?> FindAsync(string releaseId, string version, string environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(releaseId);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(environment);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await SelectAsync(connection, releaseId, version, environment.ToLowerInvariant(), cancellationToken).ConfigureAwait(false);
        }
    }

    public override string ToString() => $"{(Dialect == SqlDialect.PostgreSql ? "PostgreSQL" : "SQLite")} table {TableName}";

    private async Task<ArtifactRecord?> SelectAsync(DbConnection connection, string releaseId, string version, string environment, CancellationToken cancellationToken)
    {
        var select = connection.CreateCommand();
        await using (select.ConfigureAwait(false))
        {
            select.CommandText = $"SELECT {Columns} FROM {TableName} WHERE release_id = {P(1)} AND version = {P(2)} AND environment = {P(3)}";
            AddParameter(select, 1, releaseId);
            AddParameter(select, 2, version);
            AddParameter(select, 3, environment);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                try
                {
                    return new ArtifactRecord(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        reader.GetFieldValue<DateTimeOffset>(4),
                        await reader.IsDBNullAsync(5, cancellationToken).ConfigureAwait(false) ? null : reader.GetString(5));
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidDataException($"The row of {releaseId} ({version}) in '{environment}' in {TableName} is invalid: {ex.Message}", ex);
                }
            }
        }
    }

    private Task EnsureSchemaAsync(CancellationToken cancellationToken) => _schema.EnsureCreatedAsync(cancellationToken);

    private string P(int position) => Dialect.Placeholder(position);

    private void AddParameter(DbCommand command, int position, object? value, DbType type = DbType.String) =>
        command.AddParameter(Dialect, position, value, type);
}
