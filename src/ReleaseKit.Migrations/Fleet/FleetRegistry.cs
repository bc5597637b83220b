using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
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

    /// <summary>
    /// The schema of FluentMigrator's version table (its <c>VersionTableMetaData.SchemaName</c>); <see langword="null"/> for the
    /// connection's default (PostgreSQL: the search path; SQLite: <c>main</c>).
    /// </summary>
    public string? VersionTableSchema { get; set; }
}

/// <summary>What reading FluentMigrator's version table found.</summary>
/// <param name="Applied">The applied migrations (empty when the table is missing).</param>
/// <param name="VersionTableFound">Whether the version table exists.</param>
/// <param name="OtherTables">When it is missing: up to five tables of the application found in the database (not ReleaseKit's own).</param>
internal sealed record AppliedMigrationsRead(IReadOnlyList<AppliedMigration> Applied, bool VersionTableFound, IReadOnlyList<string> OtherTables)
{
    /// <summary>The version table is missing while the database holds the application's tables: what is applied cannot be told.</summary>
    public bool IsUndecidable => !VersionTableFound && OtherTables.Count > 0;
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
    private readonly ConditionalWeakTable<MigrationCatalog, object> _publishedCatalogs = new();
    private readonly SqlSchemaInitializer _schema;

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
        if (_options.VersionTableSchema is { } schema && string.IsNullOrWhiteSpace(schema))
        {
            throw new ArgumentException("FleetRegistryOptions.VersionTableSchema must be null (the default schema) or a schema name.", nameof(options));
        }

        _dataSource = dataSource;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        Dialect = dialect ?? Db.Detect(dataSource);
        _schema = new SqlSchemaInitializer(
            dataSource,
            Dialect,
            SchemaLockKey,
            $"CREATE TABLE IF NOT EXISTS {InstancesTable} (instance_id TEXT NOT NULL PRIMARY KEY, build_version TEXT NOT NULL, known_digest TEXT NOT NULL, "
                + "known_migrations TEXT NOT NULL, host TEXT NOT NULL, started_at_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL)",
            $"CREATE TABLE IF NOT EXISTS {PhasesTable} (version BIGINT NOT NULL PRIMARY KEY, phase TEXT NOT NULL, completes BIGINT NULL, class_name TEXT NOT NULL)");
    }

    /// <summary>The SQL dialect.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>
    /// Records (or refreshes) a heartbeat of an instance. When <paramref name="build"/> comes from
    /// <see cref="MigrationCatalog.ToBuild"/>, the first heartbeat of this registry for that catalog also publishes the phases of its
    /// migrations (as <see cref="PublishPhasesAsync"/> does), so apps that migrate with plain FluentMigrator leave phase rows too; a
    /// publication that fails is logged and retried by the next heartbeat. A <see cref="BuildSnapshot"/> created from bare versions
    /// carries no phases and publishes none.
    /// </summary>
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
        if (build.Catalog is { } catalog && !_publishedCatalogs.TryGetValue(catalog, out _))
        {
            // After the instance row: a publication that fails must not keep a running instance out of the registry.
            try
            {
                await PublishPhasesAsync(catalog, cancellationToken).ConfigureAwait(false);
                _publishedCatalogs.AddOrUpdate(catalog, build.Version);
                MigrationsLog.PhasesPublished(_logger, catalog.Migrations.Count, build.Version);
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
            {
                MigrationsLog.PhasesPublishFailed(_logger, ex, build.Version);
            }
        }
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
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Any failure (not only DbException): a loop that died silently would let the instance expire while it serves,
                // and a Contract would then pass while it still reads the old shape.
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

    /// <summary>
    /// Publishes the phases of a build's migrations, so builds that do not know them can still tell Expand from Contract. The first
    /// build to publish a version records its phase; a later build that declares another phase for it is refused.
    /// </summary>
    /// <param name="catalog">The build's migrations.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException">A migration's phase differs from the one already published for its version.</exception>
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

                // A version published earlier with another phase: the window would judge it by the first build's word.
                var mismatches = new List<string>();
                var read = Db.Command(connection, Dialect, $"SELECT version, phase, class_name FROM {PhasesTable}");
                await using (read.ConfigureAwait(false))
                {
                    read.Transaction = transaction;
                    var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            if (catalog.Find(reader.GetInt64(0)) is { Phase: { } declared } migration
                                && !string.Equals(reader.GetString(1), declared.ToString(), StringComparison.Ordinal))
                            {
                                mismatches.Add($"migration {migration.Version} ({migration.ClassName}) is a {declared} in this build but was published as a {reader.GetString(1)} (by {reader.GetString(2)})");
                            }
                        }
                    }
                }

                if (mismatches.Count > 0)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    throw new InvalidOperationException(
                        $"The migration phases in {PhasesTable} disagree with this build: {string.Join("; ", mismatches)}. "
                        + "A migration's phase must not change once a build has published it. Restore the [MigrationPhase] it shipped with, "
                        + $"or, if the published phase is wrong, correct the row in {PhasesTable} by hand after checking which builds are live.");
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The migrations applied to the database (FluentMigrator's version table) with their published phases; empty when the version
    /// table does not exist. The migration gates do not take an empty answer at its word: a missing version table in a database
    /// that holds the application's tables makes them Inconclusive (a wrong <see cref="FleetRegistryOptions.VersionTableName"/> or
    /// <see cref="FleetRegistryOptions.VersionTableSchema"/> would otherwise read as "nothing applied").
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<AppliedMigration>> GetAppliedMigrationsAsync(CancellationToken cancellationToken = default) =>
        (await ReadAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Applied;

    /// <summary>Reads the version table and, when it is missing, whether the database holds other (application) tables.</summary>
    internal async Task<AppliedMigrationsRead> ReadAppliedMigrationsAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var schema = _options.VersionTableSchema;
            var exists = Dialect == SqlDialect.PostgreSql
                ? await Db.ScalarAsync(connection, Dialect, "SELECT to_regclass($1)::text", cancellationToken, QualifiedVersionTable).ConfigureAwait(false)
                : await Db.ScalarAsync(connection, Dialect, $"SELECT name FROM {Quote(schema ?? "main")}.sqlite_master WHERE type = 'table' AND name = @p1", cancellationToken, _options.VersionTableName).ConfigureAwait(false);
            if (exists is null)
            {
                return new AppliedMigrationsRead([], false, await OtherTablesAsync(connection, cancellationToken).ConfigureAwait(false));
            }

            var result = new List<AppliedMigration>();
            var command = Db.Command(
                connection,
                Dialect,
                $"SELECT v.\"Version\", p.phase FROM {QualifiedVersionTable} v LEFT JOIN {PhasesTable} p ON p.version = v.\"Version\" ORDER BY v.\"Version\"");
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

            return new AppliedMigrationsRead(result, true, []);
        }
    }

    /// <summary>The version table as the queries name it, schema-qualified when a schema is configured.</summary>
    internal string QualifiedVersionTable => _options.VersionTableSchema is { } schema
        ? $"{Quote(schema)}.{Quote(_options.VersionTableName)}"
        : Quote(_options.VersionTableName);

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private async Task<IReadOnlyList<string>> OtherTablesAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var sql = Dialect == SqlDialect.PostgreSql
            ? "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
              + "AND table_schema NOT IN ('pg_catalog', 'information_schema') AND table_name NOT LIKE 'releasekit\\_%' ORDER BY 1 LIMIT 5"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'releasekit\\_%' ESCAPE '\\' ORDER BY 1 LIMIT 5";
        var tables = new List<string>();
        var command = Db.Command(connection, Dialect, sql);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    tables.Add(reader.GetString(0));
                }
            }
        }

        return tables;
    }

    /// <summary>Why the applied migrations cannot be told (for a gate's Inconclusive reason).</summary>
    internal string UndecidableReason(AppliedMigrationsRead read) =>
        $"FluentMigrator's version table {QualifiedVersionTable} does not exist, but the database holds the application's tables ({string.Join(", ", read.OtherTables)}), "
        + "so which migrations are applied cannot be told. Set ReleaseKitMigrationsOptions.VersionTableName / VersionTableSchema (FleetRegistryOptions) to the table FluentMigrator uses "
        + "(its VersionTableMetaData), or apply the migrations once so FluentMigrator creates it.";

    /// <inheritdoc />
    public override string ToString() => $"fleet registry in {(Dialect == SqlDialect.PostgreSql ? "PostgreSQL" : "SQLite")} table {InstancesTable}";

    private static IReadOnlySet<long> ParseVersions(string text) =>
        text.Length == 0 ? new HashSet<long>() : text.Split(',').Select(v => long.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToHashSet();

    private string P(int position) => Db.P(Dialect, position);

    private Task EnsureSchemaAsync(CancellationToken cancellationToken) => _schema.EnsureCreatedAsync(cancellationToken);
}
