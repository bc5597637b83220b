using Microsoft.Extensions.Logging;

namespace ReleaseKit.TenantContext.Internal;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Rejected tenant '{TenantId}' from {Source}: the tenant store does not know it.")]
    public static partial void UnknownTenant(ILogger logger, string tenantId, string source);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Resolved tenant '{TenantId}' from {Source}.")]
    public static partial void Resolved(ILogger logger, string tenantId, string source);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Feature '{Feature}': the ReleaseKit.Ring filter's parameters are invalid ({Problem}); the filter answers off.")]
    public static partial void InvalidRingParameters(ILogger logger, string feature, string problem);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Feature '{Feature}': the targeting context has no 'ring:<n>' group; the ReleaseKit.Ring filter answers off.")]
    public static partial void NoRingGroup(ILogger logger, string feature);
}
