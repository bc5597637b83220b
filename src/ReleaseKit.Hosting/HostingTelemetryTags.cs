namespace ReleaseKit.Hosting;

/// <summary>
/// Tag names ReleaseKit.Hosting adds to the deployment marker (the <c>releasekit.release.deployed</c> activity event and the
/// <c>releasekit.release.info</c> gauge), besides <see cref="Gates.TelemetryTags.ReleaseId"/> and
/// <see cref="Gates.TelemetryTags.ReleaseVersion"/>.
/// </summary>
public static class HostingTelemetryTags
{
    /// <summary>The release's source commit (<c>releasekit.release.commit</c>).</summary>
    public const string ReleaseCommit = "releasekit.release.commit";

    /// <summary>The highest migration version this build knows, when ReleaseKit.Migrations is registered (<c>releasekit.migration.version</c>).</summary>
    public const string MigrationVersion = "releasekit.migration.version";
}
