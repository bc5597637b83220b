using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace ReleaseKit.Reconciliation.Internal;

/// <summary>The package's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>ReleaseKit.Reconciliation</c>.</summary>
internal static class ReconciliationTelemetry
{
    public const string Name = "ReleaseKit.Reconciliation";

    public static readonly string Version = typeof(ReconciliationTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static readonly ActivitySource ActivitySource = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    public static readonly Counter<long> Actions = Meter.CreateCounter<long>(
        "releasekit.reconciliation.actions", unit: "{action}", description: "Reconciliation actions executed, by action and outcome.");

    public static readonly Counter<long> Discrepancies = Meter.CreateCounter<long>(
        "releasekit.reconciliation.discrepancies", unit: "{discrepancy}", description: "Discrepancies found by plans, by class.");
}

/// <summary>Tag names of the package's activities and metrics.</summary>
internal static class ReconciliationTags
{
    public const string Action = "releasekit.reconciliation.action";
    public const string Outcome = "releasekit.reconciliation.outcome";
    public const string Class = "releasekit.reconciliation.class";
    public const string TenantId = "tenant.id";
    public const string RunId = "releasekit.reconciliation.run_id";
}

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Reconciliation plan for {Scope}: {Items} item(s), {Held} held, {Decided} decided by a person.")]
    public static partial void Planned(ILogger logger, string scope, int items, int held, int decided);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Posting {TenantId}/{Kind}/{BusinessKey} was taken over by another worker (epoch {Epoch}); this worker stops touching it.")]
    public static partial void Fenced(ILogger logger, string tenantId, string kind, string businessKey, long epoch);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The ERP rejected {TenantId}/{Kind}/{BusinessKey}: {Reason}")]
    public static partial void Rejected(ILogger logger, string tenantId, string kind, string businessKey, string? reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Replay run {RunId}: tenant '{TenantId}' is held by another worker; skipped.")]
    public static partial void TenantBusy(ILogger logger, string runId, string tenantId);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Replay run {RunId}: tenant '{TenantId}' resumes after checkpoint {Position}.")]
    public static partial void Resumed(ILogger logger, string runId, string tenantId, string position);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Sending {TenantId}/{Kind}/{BusinessKey} ended with an exception; the posting is pending again and the next plan checks whether the ERP holds it.")]
    public static partial void SendInterrupted(ILogger logger, Exception exception, string tenantId, string kind, string businessKey);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Held item {TenantId}/{Kind}/{BusinessKey} [{Class}] accepted as is by {DecidedBy}: {Reason}")]
    public static partial void Decided(ILogger logger, string tenantId, string kind, string businessKey, string @class, string decidedBy, string reason);
}
