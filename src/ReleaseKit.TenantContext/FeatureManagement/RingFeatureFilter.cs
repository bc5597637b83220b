using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using ReleaseKit.TenantContext.Internal;

namespace ReleaseKit.TenantContext;

/// <summary>
/// Enables a feature for tenants whose rollout ring is at most <c>MaxRing</c> (FeatureManagement filter <c>ReleaseKit.Ring</c>):
/// <c>{ "Name": "ReleaseKit.Ring", "Parameters": { "MaxRing": 1 } }</c>. The ring is read from the targeting context's
/// <c>ring:&lt;n&gt;</c> group, so the filter works with the ambient tenant and with an explicit targeting context.
/// Missing or invalid parameters, or a context without a ring, answer off (fail closed).
/// </summary>
[FilterAlias(Alias)]
internal sealed class RingFeatureFilter(ITargetingContextAccessor targeting, ILogger<RingFeatureFilter>? logger = null)
    : IFeatureFilter, IFilterParametersBinder
{
    public const string Alias = "ReleaseKit.Ring";

    public const string MaxRingParameter = "MaxRing";

    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    public object BindParameters(IConfiguration parameters) => Bind(parameters);

    public async Task<bool> EvaluateAsync(FeatureFilterEvaluationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var targetingContext = await targeting.GetContextAsync().ConfigureAwait(false);
        return Evaluate(context, targetingContext, _logger);
    }

    internal static RingFilterSettings Bind(IConfiguration parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var text = parameters[MaxRingParameter];
        if (text is null)
        {
            return new RingFilterSettings(null, $"{MaxRingParameter} is missing; set it to the highest ring (0 = canary) the feature is on for");
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var maxRing) && maxRing >= 0
            ? new RingFilterSettings(maxRing, null)
            : new RingFilterSettings(null, $"{MaxRingParameter} is '{text}'; allowed is a whole number from 0 (canary)");
    }

    internal static bool Evaluate(FeatureFilterEvaluationContext context, ITargetingContext? targetingContext, ILogger logger)
    {
        var settings = context.Settings as RingFilterSettings ?? Bind(context.Parameters);
        if (settings.MaxRing is not { } maxRing)
        {
            Log.InvalidRingParameters(logger, context.FeatureName, settings.Problem ?? "unknown");
            return false;
        }

        if (!TenantTargetingGroups.TryGetRing(targetingContext?.Groups, out var ring))
        {
            Log.NoRingGroup(logger, context.FeatureName);
            return false;
        }

        return ring <= maxRing;
    }
}

/// <summary>The <c>ReleaseKit.Ring</c> filter for evaluations with an explicit targeting context (<c>IsEnabledAsync(feature, targetingContext)</c>).</summary>
[FilterAlias(RingFeatureFilter.Alias)]
internal sealed class ContextualRingFeatureFilter(ILogger<RingFeatureFilter>? logger = null)
    : IContextualFeatureFilter<ITargetingContext>, IFilterParametersBinder
{
    private static readonly Task<bool> True = Task.FromResult(true);
    private static readonly Task<bool> False = Task.FromResult(false);

    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    public object BindParameters(IConfiguration parameters) => RingFeatureFilter.Bind(parameters);

    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext featureFilterContext, ITargetingContext appContext)
    {
        ArgumentNullException.ThrowIfNull(featureFilterContext);
        return RingFeatureFilter.Evaluate(featureFilterContext, appContext, _logger) ? True : False;
    }
}

internal sealed record RingFilterSettings(int? MaxRing, string? Problem);
