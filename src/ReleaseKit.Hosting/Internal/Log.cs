using Microsoft.Extensions.Logging;

namespace ReleaseKit.Hosting.Internal;

/// <summary>The package's source-generated log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7001, EventName = "ReleaseDeployed", Level = LogLevel.Information,
        Message = "Release {ReleaseId} version {ReleaseVersion} (commit {Commit}, migration {MigrationVersion}) started in {Environment}")]
    public static partial void ReleaseDeployed(ILogger logger, string releaseId, string releaseVersion, string commit, string migrationVersion, string environment);

    [LoggerMessage(EventId = 7002, EventName = "ReadinessGatesFailed", Level = LogLevel.Warning,
        Message = "Readiness: the startup gates returned {Verdict}: {Summary}")]
    public static partial void ReadinessGatesFailed(ILogger logger, string verdict, string summary);
}
