using Microsoft.Extensions.Logging;

namespace ReleaseKit.Migrations.Internal;

/// <summary>The package's log messages, with fixed event ids (1-9 apply, 10-19 lock, 20-29 fleet, 30-39 backfill, 40-49 rehearsal).</summary>
internal static partial class MigrationsLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Applying migration {Version} ({MigrationClass}, {Phase}).")]
    public static partial void Applying(ILogger logger, long version, string migrationClass, Phase phase);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Applied migration {Version} ({MigrationClass}).")]
    public static partial void Applied(ILogger logger, long version, string migrationClass);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Migration {Version} ({MigrationClass}) failed; its transaction was rolled back where the database allows it.")]
    public static partial void Failed(ILogger logger, Exception exception, long version, string migrationClass);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Apply refused at migration {Version}: {Reason}")]
    public static partial void Refused(ILogger logger, long version, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Apply up to phase {Phase} finished: {Reason}")]
    public static partial void Finished(ILogger logger, Phase phase, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "FluentMigrator's runner failed to close its connection (after a lost connection the server has already rolled the migration back).")]
    public static partial void RunnerDisposeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Migration lock acquired by {Holder}.")]
    public static partial void LockAcquired(ILogger logger, string holder);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Migration lock is held by {OtherHolder}; {Holder} waits up to {Timeout}.")]
    public static partial void LockWaiting(ILogger logger, string otherHolder, string holder, TimeSpan timeout);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Migration lock not acquired by {Holder} within {Timeout}.")]
    public static partial void LockTimedOut(ILogger logger, string holder, TimeSpan timeout);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug, Message = "Migration lock released by {Holder}.")]
    public static partial void LockReleased(ILogger logger, string holder);

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "SQLite migration lease of {Holder} renewed until {ExpiresAt:O}.")]
    public static partial void LeaseRenewed(ILogger logger, string holder, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "SQLite migration lease of {Holder} could not be renewed: {Reason}")]
    public static partial void LeaseRenewalFailed(ILogger logger, string holder, string reason);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Migration lock of {Holder} could not be released on its session (the session is gone; PostgreSQL released the lock with it).")]
    public static partial void LockReleaseFailed(ILogger logger, Exception exception, string holder);

    [LoggerMessage(EventId = 17, Level = LogLevel.Error, Message = "Migration lock of {Holder} lost; apply stopped before migration {Version}: {Reason}")]
    public static partial void LockLost(ILogger logger, string holder, long version, string reason);

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Heartbeat of instance {InstanceId} (build {BuildVersion}).")]
    public static partial void Heartbeat(ILogger logger, string instanceId, string buildVersion);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Heartbeat of instance {InstanceId} failed; the next one follows in {Interval}.")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception, string instanceId, TimeSpan interval);

    [LoggerMessage(EventId = 22, Level = LogLevel.Debug, Message = "Instance {InstanceId} removed from the fleet registry.")]
    public static partial void InstanceRemoved(ILogger logger, string instanceId);

    [LoggerMessage(EventId = 23, Level = LogLevel.Debug, Message = "Published the phases of {Count} migration(s) of build {BuildVersion}.")]
    public static partial void PhasesPublished(ILogger logger, int count, string buildVersion);

    [LoggerMessage(EventId = 24, Level = LogLevel.Error, Message = "Could not publish the migration phases of build {BuildVersion}; the next heartbeat retries.")]
    public static partial void PhasesPublishFailed(ILogger logger, Exception exception, string buildVersion);

    [LoggerMessage(EventId = 30, Level = LogLevel.Debug, Message = "Backfill {Name}: batch {Batch} committed, keys up to {LastKey}, {Rows} row(s).")]
    public static partial void BackfillBatch(ILogger logger, string name, int batch, long lastKey, int rows);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Backfill {Name}: transient error ({ExceptionType}); attempt {Attempt} follows.")]
    public static partial void BackfillRetry(ILogger logger, string name, string exceptionType, int attempt);

    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "Backfill {Name} done: {Batches} batch(es), {Rows} row(s) in this run, resumed from {ResumedFrom}.")]
    public static partial void BackfillDone(ILogger logger, string name, int batches, long rows, string resumedFrom);

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Rollback rehearsal: migration {Version} ({MigrationClass}) {Outcome}: {Detail}")]
    public static partial void RehearsalProblem(ILogger logger, long version, string migrationClass, RehearsalOutcome outcome, string detail);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Rollback rehearsal on copy {Copy}: {Summary}")]
    public static partial void RehearsalDone(ILogger logger, string copy, string summary);

    [LoggerMessage(EventId = 42, Level = LogLevel.Error, Message = "Rollback rehearsal: the copy {Copy} could not be dropped; drop it by hand.")]
    public static partial void RehearsalCopyNotDropped(ILogger logger, Exception exception, string copy);
}
