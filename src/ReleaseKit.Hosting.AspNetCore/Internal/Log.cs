using Microsoft.Extensions.Logging;

namespace ReleaseKit.Hosting.AspNetCore.Internal;

/// <summary>The package's source-generated log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7101, EventName = "UnknownTenantRejected", Level = LogLevel.Information,
        Message = "Rejected {Method} {Path} with {StatusCode}: tenant '{TenantId}' (from {Source}) is not known to the tenant store")]
    public static partial void UnknownTenantRejected(ILogger logger, string method, string path, int statusCode, string? tenantId, string? source);

    [LoggerMessage(EventId = 7102, EventName = "MissingTenantRejected", Level = LogLevel.Information,
        Message = "Rejected {Method} {Path} with 400: the request names no tenant (sources tried: {Sources})")]
    public static partial void MissingTenantRejected(ILogger logger, string method, string path, string sources);

    [LoggerMessage(EventId = 7103, EventName = "FallbackTenantUsed", Level = LogLevel.Debug,
        Message = "{Method} {Path} names no tenant; using the fallback tenant '{TenantId}'")]
    public static partial void FallbackTenantUsed(ILogger logger, string method, string path, string tenantId);
}
