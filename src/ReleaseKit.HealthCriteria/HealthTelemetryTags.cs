namespace ReleaseKit.HealthCriteria;

/// <summary>Names of the activity, events and tags on the <c>ReleaseKit.HealthCriteria</c> ActivitySource.</summary>
public static class HealthTelemetryTags
{
    /// <summary>The activity of one evaluation.</summary>
    public const string EvaluateActivity = "releasekit.health.evaluate";

    /// <summary>The event added per criterion.</summary>
    public const string CriterionEvent = "releasekit.health.criterion";

    /// <summary>The event carrying the verdict.</summary>
    public const string VerdictEvent = "releasekit.health.verdict";

    /// <summary>The window's name.</summary>
    public const string Window = "releasekit.health.window";

    /// <summary>The health verdict (<c>Healthy</c>, <c>Degraded</c>, <c>Inconclusive</c>, <c>RollBack</c>).</summary>
    public const string HealthVerdict = "releasekit.health.verdict";

    /// <summary>The criterion's name.</summary>
    public const string Criterion = "releasekit.health.criterion";

    /// <summary>The criterion's verdict (<c>pass</c>, <c>warn</c>, <c>inconclusive</c>, <c>fail</c>).</summary>
    public const string CriterionVerdict = "releasekit.verdict";

    /// <summary>The observed value.</summary>
    public const string Observed = "releasekit.health.observed";

    /// <summary>The threshold.</summary>
    public const string Threshold = "releasekit.health.threshold";

    /// <summary>The sample size.</summary>
    public const string SampleSize = "releasekit.health.sample_size";

    /// <summary>The p-value of a comparison with the baseline.</summary>
    public const string PValue = "releasekit.health.p_value";

    /// <summary>The release id.</summary>
    public const string ReleaseId = "releasekit.release.id";
}
