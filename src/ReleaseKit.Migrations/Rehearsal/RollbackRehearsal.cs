using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using FluentMigrator;
using FluentMigrator.Infrastructure;
using FluentMigrator.Runner;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReleaseKit.Gates;
using ReleaseKit.Migrations.Internal;

namespace ReleaseKit.Migrations;

/// <summary>Options of the <see cref="RollbackRehearsal"/>.</summary>
public sealed class RollbackRehearsalOptions
{
    /// <summary>
    /// The connection string of the original database; <see langword="null"/> to take the data source's. Set it when the data
    /// source hides the password (Npgsql does unless <c>Persist Security Info=true</c>).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>PostgreSQL: the database the copy is created from and dropped from. Default <c>postgres</c>.</summary>
    public string MaintenanceDatabase { get; set; } = "postgres";

    /// <summary>Keep the copy after the rehearsal (for inspection). Default <see langword="false"/>: it is dropped.</summary>
    public bool KeepCopy { get; set; }

    /// <summary>FluentMigrator's version table. Default <c>VersionInfo</c>.</summary>
    public string VersionTableName { get; set; } = "VersionInfo";
}

/// <summary>What the rehearsal found for one pending migration.</summary>
public enum RehearsalOutcome
{
    /// <summary>Up, Down and Up again succeeded and Down kept every table, column and row that existed before Up.</summary>
    Passed = 0,

    /// <summary>Up failed; the rehearsal stopped.</summary>
    UpFailed = 1,

    /// <summary>Down failed; the rehearsal stopped.</summary>
    DownFailed = 2,

    /// <summary>Up then Down lost a table, a column or rows that existed before Up.</summary>
    DataLost = 3,

    /// <summary>Up after Down failed; the rehearsal stopped.</summary>
    ReapplyFailed = 4,

    /// <summary>
    /// Not rehearsed: an earlier migration stopped the rehearsal, or the migration is pending below the highest applied version and
    /// the runner cannot roll back that one migration alone. Not a pass.
    /// </summary>
    NotRehearsed = 5,
}

/// <summary>The rehearsal of one pending migration.</summary>
/// <param name="Version">The migration version.</param>
/// <param name="MigrationClass">The migration class.</param>
/// <param name="Phase">The declared phase, if any.</param>
/// <param name="Outcome">What the rehearsal found.</param>
/// <param name="Detail">The error or the lost tables, columns and rows; empty when it passed.</param>
public sealed record RehearsalStep(long Version, string MigrationClass, Phase? Phase, RehearsalOutcome Outcome, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => $"{Version} {MigrationClass}: {Outcome}{(Detail.Length == 0 ? string.Empty : ": " + Detail)}";
}

/// <summary>The outcome of a rollback rehearsal.</summary>
public sealed class RehearsalReport
{
    internal RehearsalReport(string copy, long startVersion, IReadOnlyList<RehearsalStep> steps)
    {
        Copy = copy;
        StartVersion = startVersion;
        Steps = steps;
    }

    /// <summary>The copy the rehearsal ran on (a file path or a database name).</summary>
    public string Copy { get; }

    /// <summary>The highest applied version when the rehearsal started (0 for none).</summary>
    public long StartVersion { get; }

    /// <summary>One step per pending migration, in version order.</summary>
    public IReadOnlyList<RehearsalStep> Steps { get; }

    /// <summary>The steps that did not pass.</summary>
    public IEnumerable<RehearsalStep> Problems => Steps.Where(s => s.Outcome != RehearsalOutcome.Passed);

    /// <summary>Whether every pending migration passed.</summary>
    public bool IsClean => Steps.All(s => s.Outcome == RehearsalOutcome.Passed);

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{Steps.Count} pending migration(s) rehearsed from version {StartVersion}: ")
            .Append(IsClean ? "all passed" : $"{Problems.Count()} problem(s)");
        foreach (var step in Steps)
        {
            text.AppendLine().Append("  ").Append(step);
        }

        return text.ToString();
    }
}

/// <summary>
/// Rehearses a release's rollback on a COPY of the database: for each pending migration in version order, apply it, roll back
/// to the version before it, compare, and apply it again. The copy is a SQLite <c>VACUUM INTO</c> file (consistent even while
/// the app writes) or a PostgreSQL <c>CREATE DATABASE ... TEMPLATE</c> (which needs no other session on the original); the
/// original is only read. A Down that fails, or that leaves fewer tables, columns or rows than existed before its Up (in tables
/// other than FluentMigrator's and ReleaseKit's own), is reported. Data values are not compared: a Contract's Down restores the
/// shape, not the dropped data.
/// </summary>
public sealed class RollbackRehearsal
{
    private readonly DbDataSource _dataSource;
    private readonly MigrationCatalog _catalog;
    private readonly Func<string, IServiceProvider> _runnerServicesFor;
    private readonly RollbackRehearsalOptions _options;
    private readonly SqlDialect _dialect;
    private readonly ILogger _logger;

    /// <summary>Creates the rehearsal.</summary>
    /// <param name="dataSource">The original database (only read).</param>
    /// <param name="catalog">The migrations of the build being released.</param>
    /// <param name="runnerServicesFor">
    /// Given the copy's connection string, returns services with FluentMigrator's runner configured on it
    /// (<c>AddFluentMigratorCore().ConfigureRunner(rb =&gt; rb.AddPostgres().WithGlobalConnectionString(cs)...)</c>); disposed after.
    /// </param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="dialect">The SQL dialect; <see langword="null"/> to detect it from the data source.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    public RollbackRehearsal(DbDataSource dataSource, MigrationCatalog catalog, Func<string, IServiceProvider> runnerServicesFor, RollbackRehearsalOptions? options = null, SqlDialect? dialect = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(runnerServicesFor);
        _options = options ?? new RollbackRehearsalOptions();
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.MaintenanceDatabase, nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.VersionTableName, nameof(options));
        _dataSource = dataSource;
        _catalog = catalog;
        _runnerServicesFor = runnerServicesFor;
        _dialect = dialect ?? Db.Detect(dataSource);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Copies the database, rehearses every pending migration on the copy, and drops the copy (unless kept).</summary>
    /// <param name="cancellationToken">Cancels between migrations.</param>
    /// <exception cref="InvalidOperationException">The copy cannot be made (in-memory SQLite; PostgreSQL sessions on the original).</exception>
    public async Task<RehearsalReport> RehearseAsync(CancellationToken cancellationToken = default)
    {
        using var activity = MigrationsTelemetry.ActivitySource.StartActivity("releasekit.migrations.rehearse");
        var factory = DatabaseCopy.ProviderFactory(_dataSource);
        var copy = await DatabaseCopy.CreateAsync(_dataSource, _dialect, _options.ConnectionString, _options.MaintenanceDatabase, cancellationToken).ConfigureAwait(false);
        try
        {
            var steps = new List<RehearsalStep>();
            long start;
            var copySource = factory.CreateDataSource(copy.ConnectionString);
            await using (copySource.ConfigureAwait(false))
            {
                var registry = new FleetRegistry(copySource, new FleetRegistryOptions { VersionTableName = _options.VersionTableName }, dialect: _dialect);
                var applied = (await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version).ToHashSet();
                start = applied.Count == 0 ? 0 : applied.Max();
                var services = _runnerServicesFor(copy.ConnectionString);
                try
                {
                    using var scope = services.CreateScope();
                    var runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
                    var stopped = false;
                    foreach (var migration in _catalog.Migrations.Where(m => !applied.Contains(m.Version)))
                    {
                        if (stopped)
                        {
                            steps.Add(new RehearsalStep(migration.Version, migration.ClassName, migration.Phase, RehearsalOutcome.NotRehearsed, "An earlier migration stopped the rehearsal."));
                            continue;
                        }

                        cancellationToken.ThrowIfCancellationRequested();
                        var step = await RehearseOneAsync(runner, copySource, registry, migration, applied, cancellationToken).ConfigureAwait(false);
                        steps.Add(step);
                        if (step.Outcome != RehearsalOutcome.Passed)
                        {
                            MigrationsLog.RehearsalProblem(_logger, step.Version, step.MigrationClass, step.Outcome, step.Detail);
                        }

                        stopped = step.Outcome is RehearsalOutcome.UpFailed or RehearsalOutcome.DownFailed or RehearsalOutcome.ReapplyFailed or RehearsalOutcome.NotRehearsed;
                        applied.Add(migration.Version);
                    }
                }
                finally
                {
                    switch (services)
                    {
                        case IAsyncDisposable asyncDisposable:
                            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                            break;
                        case IDisposable disposable:
                            disposable.Dispose();
                            break;
                    }
                }
            }

            var report = new RehearsalReport(copy.Name, start, steps);
            MigrationsLog.RehearsalDone(_logger, copy.Name, report.IsClean ? "all passed" : $"{report.Problems.Count()} problem(s)");
            return report;
        }
        finally
        {
            if (!_options.KeepCopy)
            {
                try
                {
                    await copy.Drop().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException)
                {
                    // A drop that fails must not replace the report (or the exception that ended the rehearsal); the copy is left
                    // behind and the log names it.
                    MigrationsLog.RehearsalCopyNotDropped(_logger, ex, copy.Name);
                }
            }
        }
    }

    private async Task<RehearsalStep> RehearseOneAsync(IMigrationRunner runner, DbDataSource copy, FleetRegistry registry, MigrationDescriptor migration, HashSet<long> applied, CancellationToken cancellationToken)
    {
        RehearsalStep Step(RehearsalOutcome outcome, string detail) => new(migration.Version, migration.ClassName, migration.Phase, outcome, detail);

        // The version before this migration: the highest one applied so far. A pending migration below it (applied {1, 3}, pending
        // {2}) is out of order: MigrateDown(3) would roll back nothing, so its own Down is run instead.
        var previous = applied.Count == 0 ? 0 : applied.Max();
        var outOfOrder = migration.Version < previous;
        IMigrationInfo? info = null;
        if (outOfOrder && !SingleMigrationRollback.TryFind(runner, migration.Version, out info))
        {
            return Step(RehearsalOutcome.NotRehearsed, $"out of order: version {migration.Version} is pending below the highest applied version {previous}, and the runner ({runner.GetType().Name}) cannot roll back that one migration alone; rehearse it on a copy where it is the latest.");
        }

        var before = await SnapshotAsync(copy, cancellationToken).ConfigureAwait(false);
        try
        {
            runner.MigrateUp(migration.Version);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Step(RehearsalOutcome.UpFailed, ex.GetBaseException().Message);
        }

        var downTarget = outOfOrder ? $"its own Down (out of order below {previous})" : $"rolling back to {previous}";
        try
        {
            if (outOfOrder)
            {
                SingleMigrationRollback.Down(runner, info!);
            }
            else
            {
                runner.MigrateDown(previous);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Step(RehearsalOutcome.DownFailed, $"{downTarget}: {ex.GetBaseException().Message}");
        }

        // Fail closed: a Down that did not take the version off the version table did not run as a rollback would.
        var afterDown = (await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version).ToHashSet();
        if (afterDown.Contains(migration.Version) || !applied.IsSubsetOf(afterDown))
        {
            return Step(RehearsalOutcome.DownFailed, $"{downTarget}: the version table does not show exactly the versions applied before the Up (still applied: {string.Join(", ", afterDown.Order())}).");
        }

        var after = await SnapshotAsync(copy, cancellationToken).ConfigureAwait(false);
        var lost = new List<string>();
        foreach (var (table, shape) in before)
        {
            if (!after.TryGetValue(table, out var now))
            {
                lost.Add($"table {table} ({shape.Rows} rows) is gone");
                continue;
            }

            lost.AddRange(shape.Columns.Where(c => !now.Columns.Contains(c)).Select(c => $"column {table}.{c} is gone"));
            if (now.Rows < shape.Rows)
            {
                lost.Add($"table {table} has {now.Rows} rows, {shape.Rows} before");
            }
        }

        try
        {
            runner.MigrateUp(migration.Version);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Step(RehearsalOutcome.ReapplyFailed, ex.GetBaseException().Message);
        }

        // Fail closed: an Up that did not put the version back on the version table did not re-apply it.
        var afterReapply = (await registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version).ToHashSet();
        if (!afterReapply.Contains(migration.Version))
        {
            return Step(RehearsalOutcome.ReapplyFailed, $"after {downTarget}, Up did not re-apply it: the version table does not show {migration.Version} (applied: {string.Join(", ", afterReapply.Order())}).");
        }

        return lost.Count == 0
            ? Step(RehearsalOutcome.Passed, string.Empty)
            : Step(RehearsalOutcome.DataLost, $"after Up and Down: {string.Join("; ", lost)}");
    }

    private async Task<Dictionary<string, TableShape>> SnapshotAsync(DbDataSource source, CancellationToken cancellationToken)
    {
        var columns = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var sql = _dialect == SqlDialect.Sqlite
                ? "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
                : "SELECT c.table_schema || '.' || c.table_name, c.column_name FROM information_schema.columns c JOIN information_schema.tables t "
                  + "ON t.table_schema = c.table_schema AND t.table_name = c.table_name WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')";
            var command = Db.Command(connection, _dialect, sql);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var table = reader.GetString(0);
                        var bare = table.Contains('.', StringComparison.Ordinal) ? table[(table.IndexOf('.', StringComparison.Ordinal) + 1)..] : table;
                        if (string.Equals(bare, _options.VersionTableName, StringComparison.Ordinal) || bare.StartsWith("releasekit_", StringComparison.Ordinal))
                        {
                            continue;
                        }

                        if (!columns.TryGetValue(table, out var set))
                        {
                            columns[table] = set = new HashSet<string>(StringComparer.Ordinal);
                        }

                        set.Add(reader.GetString(1));
                    }
                }
            }

            var result = new Dictionary<string, TableShape>(StringComparer.Ordinal);
            foreach (var (table, set) in columns)
            {
                var quoted = string.Join('.', table.Split('.').Select(p => $"\"{p.Replace("\"", "\"\"", StringComparison.Ordinal)}\""));
                var rows = Convert.ToInt64(await Db.ScalarAsync(connection, _dialect, $"SELECT COUNT(*) FROM {quoted}", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                result[table] = new TableShape(set, rows);
            }

            return result;
        }
    }

    private sealed record TableShape(HashSet<string> Columns, long Rows);

}

/// <summary>
/// Rolls back one migration alone: one pending below the highest applied version (applied {1, 3}, pending {2}), which
/// <c>MigrateDown</c> cannot reach. Shared by <see cref="RollbackRehearsal"/> and <c>releasekit rehearse</c>.
/// </summary>
internal static class SingleMigrationRollback
{
    /// <summary>Finds the migration in the runner; <see langword="false"/> when the runner cannot roll back one migration alone.</summary>
    public static bool TryFind(IMigrationRunner runner, long version, [NotNullWhen(true)] out IMigrationInfo? info)
    {
        ArgumentNullException.ThrowIfNull(runner);
        info = null;
        return runner is MigrationRunner && runner.MigrationLoader.LoadMigrations().TryGetValue(version, out info);
    }

    /// <summary>
    /// Runs the migration's Down and takes its version off the version table, in a transaction unless it opts out; then reloads
    /// the runner's cached version table, without which a later <c>MigrateUp</c> still sees the version applied and skips it.
    /// </summary>
    public static void Down(IMigrationRunner runner, IMigrationInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var migrationRunner = (MigrationRunner)runner;
        try
        {
            migrationRunner.ApplyMigrationDown(info, info.TransactionBehavior == TransactionBehavior.Default);
        }
        finally
        {
            migrationRunner.VersionLoader.LoadVersionInfo();
        }
    }
}
