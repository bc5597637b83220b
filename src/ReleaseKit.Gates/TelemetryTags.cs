namespace ReleaseKit.Gates;

/// <summary>Tag names ReleaseKit puts on activities and metrics.</summary>
public static class TelemetryTags
{
    /// <summary>The gate's registered name.</summary>
    public const string GateName = "releasekit.gate.name";

    /// <summary>The stage (<c>startup</c>, <c>promotion</c>, <c>postdeploy</c>).</summary>
    public const string Stage = "releasekit.stage";

    /// <summary>The verdict (<c>pass</c>, <c>warn</c>, <c>inconclusive</c>, <c>fail</c>).</summary>
    public const string Verdict = "releasekit.verdict";

    /// <summary>The release id.</summary>
    public const string ReleaseId = "releasekit.release.id";

    /// <summary>The release version.</summary>
    public const string ReleaseVersion = "releasekit.release.version";

    /// <summary>The environment name.</summary>
    public const string Environment = "releasekit.environment";

    /// <summary>The sampling round number.</summary>
    public const string Round = "releasekit.round";

    /// <summary>The tenant id.</summary>
    public const string TenantId = "tenant.id";
}
