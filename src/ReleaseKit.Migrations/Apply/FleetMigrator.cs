using System.Data.Common;
using FluentMigrator.Runner;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReleaseKit.Gates;
using ReleaseKit.Migrations.Internal;

namespace ReleaseKit.Migrations;

/// <summary>Options of the <see cref="FleetMigrator"/>.</summary>
public sealed class FleetMigratorOptions
{
    /// <summary>How long to wait for another migrator to release the migration lock. Default 1 minute.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>SQLite: how often to retry the lease while another migrator holds it. Default 250 ms.</summary>
    public TimeSpan LockPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>SQLite: how long a lease lasts; a lease left by a dead process frees itself after this. Default 15 minutes.</summary>
    public TimeSpan SqliteLeaseDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The id this migrator holds the lock under (shown to the others). Default: machine name and process id.</summary>
    public string Holder { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Retries of the batches of Backfill migrations that implement <see cref="IBatchedBackfill"/>.</summary>
    public BackfillRunnerOptions Backfill { get; set; } = new();
}

/// <summary>
/// Applies pending migrations by phase with FluentMigrator's runner, one migrator at a time across the fleet, and refuses a
/// Contract while a live instance runs a build that does not know it (the live instances are read right before each Contract).
/// The migration lock is checked before each migration and each backfill batch; once it is lost the apply stops with a failed result.
/// </summary>
public sealed class FleetMigrator
{
    private readonly IServiceProvider _runnerServices;
    private readonly MigrationCatalog _catalog;
    private readonly FleetRegistry _registry;
    private readonly MigrationLock _lock;
    private readonly FleetMigratorOptions _options;
    private readonly BackfillRunner _backfill;
    private readonly ILogger _logger;

    /// <summary>Creates the migrator.</summary>
    /// <param name="runnerServices">Services where FluentMigrator's runner is configured (<c>AddFluentMigratorCore().ConfigureRunner(...)</c>).</param>
    /// <param name="catalog">The migrations of this build.</param>
    /// <param name="registry">The fleet registry in the same database.</param>
    /// <param name="dataSource">The database (for the migration lock).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    public FleetMigrator(IServiceProvider runnerServices, MigrationCatalog catalog, FleetRegistry registry, DbDataSource dataSource, FleetMigratorOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(runnerServices);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = options ?? new FleetMigratorOptions();
        if (_options.LockTimeout <= TimeSpan.Zero || _options.LockPollInterval <= TimeSpan.Zero || _options.SqliteLeaseDuration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "FleetMigratorOptions.LockTimeout, LockPollInterval and SqliteLeaseDuration must be positive.");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(_options.Holder, nameof(options));
        _runnerServices = runnerServices;
        _catalog = catalog;
        _registry = registry;
        _logger = logger ?? NullLogger.Instance;
        _lock = new MigrationLock(dataSource, registry.Dialect, _options, timeProvider ?? TimeProvider.System, _logger);
        _backfill = new BackfillRunner(dataSource, _options.Backfill, timeProvider, registry.Dialect, _logger);
    }

    /// <summary>Lists the pending migrations by phase, what each does and whether it may run now.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<MigrationPlan> PlanAsync(CancellationToken cancellationToken = default)
    {
        var applied = await _registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false);
        var live = await _registry.GetLiveInstancesAsync(cancellationToken).ConfigureAwait(false);
        var appliedVersions = applied.Select(a => a.Version).ToHashSet();
        var steps = new List<MigrationPlanStep>();
        string? blockedBy = null;
        foreach (var migration in _catalog.Migrations.Where(m => !appliedVersions.Contains(m.Version)))
        {
            var summary = Summarize(migration);
            if (blockedBy is not null)
            {
                steps.Add(new MigrationPlanStep(migration, summary, false, $"Waits for {blockedBy}; migrations apply in version order.", []));
                continue;
            }

            if (migration.Phase is null)
            {
                blockedBy = $"migration {migration.Version}, which declares no phase";
                steps.Add(new MigrationPlanStep(migration, summary, false, "The migration declares no phase; add [MigrationPhase].", []));
                continue;
            }

            var decision = CompatibilityWindow.CanApply(migration, live);
            if (!decision.IsAllowed)
            {
                blockedBy = $"Contract {migration.Version}";
            }

            steps.Add(new MigrationPlanStep(migration, summary, decision.IsAllowed, decision.Reason, decision.BlockingInstances));
        }

        return new MigrationPlan(steps);
    }

    /// <summary>
    /// Applies pending migrations in version order up to and including phase <paramref name="upTo"/> (Expand; Expand and Backfill;
    /// all), under the fleet-wide migration lock. Stops at the first pending migration of a later phase, and refuses a Contract
    /// that a live instance still needs the old shape for. Each migration runs in its own transaction (FluentMigrator's default).
    /// </summary>
    /// <param name="upTo">The last phase to apply.</param>
    /// <param name="cancellationToken">Cancels waiting for the lock; a migration that has started runs to its end.</param>
    /// <exception cref="TimeoutException">Another migrator held the lock for longer than the lock timeout.</exception>
    public Task<MigrationApplyResult> ApplyAsync(Phase upTo, CancellationToken cancellationToken = default) => ApplyAsync(upTo, null, cancellationToken);

    /// <summary>
    /// Applies pending migrations like <see cref="ApplyAsync(Phase, CancellationToken)"/>; a Backfill migration that implements
    /// <see cref="IBatchedBackfill"/> first runs its batches to the end (resuming at its checkpoint, reporting to
    /// <paramref name="backfillProgress"/>), and is recorded as applied only after the last batch.
    /// </summary>
    /// <param name="upTo">The last phase to apply.</param>
    /// <param name="backfillProgress">Receives the progress of batched backfills; <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels waiting for the lock and a backfill between batches; a migration that has started runs to its end.</param>
    /// <exception cref="TimeoutException">Another migrator held the lock for longer than the lock timeout.</exception>
    /// <exception cref="InvalidOperationException">A migration's phase differs from the one already published for its version.</exception>
    public async Task<MigrationApplyResult> ApplyAsync(Phase upTo, IProgress<BackfillProgress>? backfillProgress, CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(upTo))
        {
            throw new ArgumentOutOfRangeException(nameof(upTo), upTo, "Unknown phase; allowed values are Expand, Backfill and Contract.");
        }

        await _registry.PublishPhasesAsync(_catalog, cancellationToken).ConfigureAwait(false);
        var handle = await _lock.AcquireAsync(_options.Holder, cancellationToken).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            using var activity = MigrationsTelemetry.ActivitySource.StartActivity("releasekit.migrations.apply");
            var applied = (await _registry.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Version).ToHashSet();
            var done = new List<long>();
            var scope = _runnerServices.CreateScope();
            try
            {
                var runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
                foreach (var migration in _catalog.Migrations.Where(m => !applied.Contains(m.Version)))
                {
                    if (migration.Phase is not { } phase)
                    {
                        return Finish(upTo, MigrationApplyResult.Stopped(done, migration.Version, $"Migration {migration.Version} ({migration.ClassName}) declares no phase; it is not applied.", []));
                    }

                    if (phase > upTo)
                    {
                        return Finish(upTo, MigrationApplyResult.Stopped(done, migration.Version, $"Migration {migration.Version} is a {phase}; apply stopped at phase {upTo}.", [], refused: false));
                    }

                    if (await LockLostAsync(handle, migration, cancellationToken).ConfigureAwait(false) is { } lost)
                    {
                        return Finish(upTo, MigrationApplyResult.Failed(done, migration.Version, lost.Message, lost));
                    }

                    // The fleet changes while earlier migrations (a long backfill) run: read the live instances right before a Contract.
                    var live = phase == Phase.Contract ? await _registry.GetLiveInstancesAsync(cancellationToken).ConfigureAwait(false) : [];
                    var decision = CompatibilityWindow.CanApply(migration, live);
                    if (!decision.IsAllowed)
                    {
                        return Finish(upTo, MigrationApplyResult.Stopped(done, migration.Version, decision.Reason, decision.BlockingInstances));
                    }

                    MigrationsLog.Applying(_logger, migration.Version, migration.ClassName, phase);
                    try
                    {
                        if (phase == Phase.Backfill && typeof(IBatchedBackfill).IsAssignableFrom(migration.Type))
                        {
                            var batched = (IBatchedBackfill)ActivatorUtilities.CreateInstance(scope.ServiceProvider, migration.Type);
                            await _backfill.RunAsync(batched.Backfill, backfillProgress, handle.EnsureHeldAsync, cancellationToken).ConfigureAwait(false);
                            if (await LockLostAsync(handle, migration, cancellationToken).ConfigureAwait(false) is { } lostAfterBackfill)
                            {
                                return Finish(upTo, MigrationApplyResult.Failed(done, migration.Version, lostAfterBackfill.Message, lostAfterBackfill));
                            }
                        }

                        runner.MigrateUp(migration.Version);
                    }
                    catch (MigrationLockLostException ex)
                    {
                        MigrationsLog.LockLost(_logger, handle.Holder, migration.Version, ex.Message);
                        return Finish(upTo, MigrationApplyResult.Failed(done, migration.Version, ex.Message, ex));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        MigrationsLog.Failed(_logger, ex, migration.Version, migration.ClassName);
                        return Finish(upTo, MigrationApplyResult.Failed(done, migration.Version, $"Migration {migration.Version} ({migration.ClassName}) failed and was rolled back where the database allows it: {ex.GetBaseException().Message}", ex));
                    }

                    MigrationsTelemetry.Applied.Add(1, new KeyValuePair<string, object?>(MigrationsTelemetryTags.Phase, phase.ToString()));
                    MigrationsLog.Applied(_logger, migration.Version, migration.ClassName);
                    done.Add(migration.Version);
                }

                return Finish(upTo, MigrationApplyResult.Completed(done));
            }
            finally
            {
                DisposeRunner(scope);
            }
        }
    }

    /// <summary>
    /// Disposes the runner's scope. After a lost connection FluentMigrator's processor throws while rolling back a transaction
    /// the server has already rolled back (the session ended); that is logged, not thrown over the apply result.
    /// </summary>
    private void DisposeRunner(IServiceScope scope)
    {
        try
        {
            scope.Dispose();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or DbException or InvalidOperationException)
        {
            MigrationsLog.RunnerDisposeFailed(_logger, ex);
        }
    }

    private async Task<MigrationLockLostException?> LockLostAsync(MigrationLockHandle handle, MigrationDescriptor migration, CancellationToken cancellationToken)
    {
        try
        {
            await handle.EnsureHeldAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (MigrationLockLostException ex)
        {
            MigrationsLog.LockLost(_logger, handle.Holder, migration.Version, ex.Message);
            return ex;
        }
    }

    private MigrationApplyResult Finish(Phase upTo, MigrationApplyResult result)
    {
        if (result.IsRefused && result.Error is null && result.StoppedAt is { } at)
        {
            MigrationsLog.Refused(_logger, at, result.Reason);
        }

        MigrationsLog.Finished(_logger, upTo, result.Reason);
        return result;
    }

    private string Summarize(MigrationDescriptor migration)
    {
        try
        {
            var expressions = MigrationLint.CollectUp(migration, _registry.Dialect);
            return expressions.Count == 0
                ? "no expressions"
                : string.Join("; ", expressions.Select(e => MigrationLint.TableOf(e) is { } table ? $"{MigrationLint.Describe(e)} {table}" : MigrationLint.Describe(e)));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return $"cannot describe: {ex.Message}";
        }
    }
}
