using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReleaseKit.Gates;
using ReleaseKit.Migrations.Internal;

namespace ReleaseKit.Migrations;

/// <summary>Options of the <see cref="FleetRegistry"/>.</summary>
public sealed class FleetRegistryOptions
{
    /// <summary>An instance not seen for this long is no longer live. Default 2 minutes; keep it above three heartbeat intervals plus the largest clock difference between hosts.</summary>
    public TimeSpan InstanceExpiry { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The name of FluentMigrator's version table. Default <c>VersionInfo</c>.</summary>
    public string VersionTableName { get; set; } = "VersionInfo";
}

/// <summary>
/// The fleet registry in the application's own database: each instance heartbeats its build and known migrations, and
/// the phases of the migrations every build knows are published, so the compatibility window holds across machines.
/// </summary>
public sealed class FleetRegistry
{
    internal const string InstancesTable = "releasekit_fleet_instances";
    internal const string PhasesTable = "releasekit_migration_phases";
    private const long SchemaLockKey = 0x52_4B_46_4C_45_45_54; // "RKFLEET"

    private readonly DbDataSource _dataSource;
    private readonly FleetRegistryOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, IReadOnlySet<long>> _setsByDigest = new(StringComparer.Ordinal);
    private Task? _schemaReady;

    /// <summary>Creates the registry.</summary>
    /// <param name="dataSource">The application's database.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="dialect">The SQL dialect; <see langword="null"/> to detect it from the data source.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    public FleetRegistry(DbDataSource dataSource, FleetRegistryOptions? options = null, TimeProvider? timeProvider = null, SqlDialect? dialect = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = options ?? new FleetRegistryOptions();
        if (_options.InstanceExpiry <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.InstanceExpiry, "FleetRegistryOptions.InstanceExpiry must be positive.");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(_options.VersionTableName, nameof(options));
        _dataSource = dataSource;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        Dialect = dialect ?? Db.Detect(dataSource);
    }

    /// <summary>The SQL dialect.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>Records (or refreshes) a heartbeat of an instance, and publishes the phases its build knows.</summary>
    /// <param name="instanceId">The instance id, unique across the fleet.</param>
    /// <param name="build">The build it runs.</param>
    /// <param name="host">The host it runs on.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task HeartbeatAsync(string instanceId, BuildSnapshot build, string host, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var known = string.Join(',', build.KnownMigrations.Order().Select(v => v.ToString(CultureInfo.InvariantCulture)));
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await Db.ExecuteAsync(
                connection,
                Dialect,
                $"INSERT INTO {InstancesTable} (instance_id, build_version, known_digest, known_migrations, host, started_at_ms, last_seen_ms) "
                + $"VALUES ({P(1)}, {P(2)}, {P(3)}, {P(4)}, {P(5)}, {P(6)}, {P(6)}) "
                + "ON CONFLICT (instance_id) DO UPDATE SET "
                + $"started_at_ms = CASE WHEN {InstancesTable}.build_version = excluded.build_version THEN {InstancesTable}.started_at_ms ELSE excluded.started_at_ms END, "
                + "build_version = excluded.build_version, known_digest = excluded.known_digest, known_migrations = excluded.known_migrations, "
                + "host = excluded.host, last_seen_ms = excluded.last_seen_ms",
                cancellationToken,
                instanceId,
                build.Version,
                build.Digest,
                known,
                host,
                now).ConfigureAwait(false);
        }

        MigrationsLog.Heartbeat(_logger, instanceId, build.Version);
    }

    /// <summary>
    /// Heartbeats an instance now and then every <paramref name="interval"/> on the registry's <see cref="TimeProvider"/> until
    /// <paramref name="cancellationToken"/> is cancelled, for apps without a host (ReleaseKit.Hosting wraps it in a hosted
    /// service). A failed heartbeat is logged and the loop goes on; keep <paramref name="interval"/> well under a third of
    /// <see cref="FleetRegistryOptions.InstanceExpiry"/>. On cancellation the instance is removed when
    /// <paramref name="removeOnStop"/> is set, and the task completes without throwing.
    /// </summary>
    /// <param name="instanceId">The instance id, unique across the fleet.</param>
    /// <param name="build">The build it runs.</param>
    /// <param name="host">The host it runs on.</param>
    /// <param name="interval">The time between heartbeats; positive and less than the instance expiry.</param>
    /// <param name="removeOnStop">Whether to remove the instance from the registry when the loop stops.</param>
    /// <param name="cancellationToken">Stops the loop.</param>
    public async Task RunHeartbeatAsync(string instanceId, BuildSnapshot build, string host, TimeSpan interval, bool removeOnStop, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        if (interval <= TimeSpan.Zero || interval >= _options.InstanceExpiry)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, $"The heartbeat interval must be positive and less than FleetRegistryOptions.InstanceExpiry ({_options.InstanceExpiry}).");
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await HeartbeatAsync(instanceId, build, host, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException)
            {
                MigrationsLog.HeartbeatFailed(_logger, ex, instanceId, interval);
            }

            try
            {
                await Task.Delay(interval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        if (removeOnStop)
        {
            await RemoveAsync(instanceId, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Removes an instance (on graceful shutdown), so it stops counting before it expires.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task RemoveAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await Db.ExecuteAsync(connection, Dialect, $"DELETE FROM {InstancesTable} WHERE instance_id = {P(1)}", cancellationToken, instanceId).ConfigureAwait(false);
        }

        MigrationsLog.InstanceRemoved(_logger, instanceId);
    }

    /// <summary>The instances seen within <see cref="FleetRegistryOptions.InstanceExpiry"/>.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<FleetInstance>> GetLiveInstancesAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var cutoff = (_timeProvider.GetUtcNow() - _options.InstanceExpiry).ToUnixTimeMilliseconds();
        var result = new List<FleetInstance>();
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = Db.Command(
                connection,
                Dialect,
                $"SELECT instance_id, build_version, known_digest, known_migrations, host, started_at_ms, last_seen_ms FROM {InstancesTable} WHERE last_seen_ms >= {P(1)} ORDER BY instance_id",
                cutoff);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var digest = reader.GetString(2);
                        var known = _setsByDigest.GetOrAdd(digest, static (_, text) => ParseVersions(text), reader.GetString(3));
                        result.Add(new FleetInstance(
                            reader.GetString(0),
                            reader.GetString(1),
                            known,
                            reader.GetString(4),
                            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Publishes the phases of a build's migrations, so builds that do not know them can still tell Expand from Contract.</summary>
    /// <param name="catalog">The build's migrations.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task PublishPhasesAsync(MigrationCatalog catalog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                foreach (var migration in catalog.Migrations)
                {
                    if (migration.Phase is not { } phase)
                    {
                        continue;
                    }

                    var command = Db.Command(
                        connection,
                        Dialect,
                        $"INSERT INTO {PhasesTable} (version, phase, completes, class_name) VALUES ({P(1)}, {P(2)}, {P(3)}, {P(4)}) ON CONFLICT (version) DO NOTHING",
                        migration.Version,
                        phase.ToString(),
                        (object?)migration.Completes ?? Db.NullInt64,
                        migration.ClassName);
                    await using (command.ConfigureAwait(false))
                    {
                        command.Transaction = transaction;
                        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The migrations applied to the database (FluentMigrator's version table) with their published phases.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<AppliedMigration>> GetAppliedMigrationsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var exists = Dialect == SqlDialect.PostgreSql
                ? await Db.ScalarAsync(connection, Dialect, "SELECT to_regclass($1)::text", cancellationToken, $"\"{_options.VersionTableName}\"").ConfigureAwait(false)
                : await Db.ScalarAsync(connection, Dialect, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = @p1", cancellationToken, _options.VersionTableName).ConfigureAwait(false);
            if (exists is null)
            {
                return [];
            }

            var result = new List<AppliedMigration>();
            var command = Db.Command(
                connection,
                Dialect,
                $"SELECT v.\"Version\", p.phase FROM \"{_options.VersionTableName.Replace("\"", "\"\"", StringComparison.Ordinal)}\" v LEFT JOIN {PhasesTable} p ON p.version = v.\"Version\" ORDER BY v.\"Version\"");
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        Phase? phase = await reader.IsDBNullAsync(1, cancellationToken).ConfigureAwait(false) ? null
                            : Enum.TryParse<Phase>(reader.GetString(1), out var parsed) ? parsed : null;
                        result.Add(new AppliedMigration(reader.GetInt64(0), phase));
                    }
                }
            }

            return result;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"fleet registry in {(Dialect == SqlDialect.PostgreSql ? "PostgreSQL" : "SQLite")} table {InstancesTable}";

    private static IReadOnlySet<long> ParseVersions(string text) =>
        text.Length == 0 ? new HashSet<long>() : text.Split(',').Select(v => long.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToHashSet();

    private string P(int position) => Db.P(Dialect, position);

    private Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _schemaReady);
        if (current is null || current.IsFaulted || current.IsCanceled)
        {
            var created = CreateSchemaAsync();
            current = Interlocked.CompareExchange(ref _schemaReady, created, current) == current ? created : Volatile.Read(ref _schemaReady)!;
        }

        return current.IsCompletedSuccessfully ? Task.CompletedTask : current.WaitAsync(cancellationToken);
    }

    private async Task CreateSchemaAsync()
    {
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                foreach (var sql in (string[])[
                    Dialect == SqlDialect.PostgreSql ? $"SELECT pg_advisory_xact_lock({SchemaLockKey})" : "SELECT 1",
                    $"CREATE TABLE IF NOT EXISTS {InstancesTable} (instance_id TEXT NOT NULL PRIMARY KEY, build_version TEXT NOT NULL, known_digest TEXT NOT NULL, "
                        + "known_migrations TEXT NOT NULL, host TEXT NOT NULL, started_at_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL)",
                    $"CREATE TABLE IF NOT EXISTS {PhasesTable} (version BIGINT NOT NULL PRIMARY KEY, phase TEXT NOT NULL, completes BIGINT NULL, class_name TEXT NOT NULL)"])
                {
                    var command = connection.CreateCommand();
                    await using (command.ConfigureAwait(false))
                    {
                        command.Transaction = transaction;
                        command.CommandText = sql;
                        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
                    }
                }

                await transaction.CommitAsync().ConfigureAwait(false);
            }
        }
    }
}
