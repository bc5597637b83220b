using Microsoft.Extensions.Options;

namespace ProServ.Billing;

/// <summary>
/// Which release this process plays. One build carries the code and migrations of three releases; the configured
/// <see cref="Version"/> decides what the process knows and does, so one process can play release N, N+1 or N+2.
/// </summary>
public sealed class ReleaseOptions
{
    /// <summary>The release this process runs as (<c>Release:Version</c>): 2026.11.1, 2026.12.1 or 2027.1.1.</summary>
    public string Version { get; set; } = ReleaseProfile.Default.Version;

    /// <summary>The highest migration this build knows (<c>Release:MaxMigrationVersion</c>); default: the release's own.</summary>
    public long? MaxMigrationVersion { get; set; }

    /// <summary>This instance's id in the fleet registry; default machine name and process id.</summary>
    public string? InstanceId { get; set; }

    /// <summary>Heartbeat interval into the fleet registry (must stay below the 2-minute instance expiry).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether stopping the app removes its fleet row (false simulates a crashed instance that must expire).</summary>
    public bool RemoveOnStop { get; set; } = true;

    /// <summary>The profile of <see cref="Version"/>.</summary>
    public ReleaseProfile Profile => ReleaseProfile.Find(Version) ?? throw new InvalidOperationException($"Release:Version '{Version}' is not a release of this build.");
}

/// <summary><c>Database</c> section: which database and whether the app migrates at start.</summary>
public sealed class DatabaseOptions
{
    /// <summary>The allowed values of <see cref="Provider"/>.</summary>
    public static readonly string[] Providers = ["sqlite", "postgres"];

    /// <summary><c>sqlite</c> (default: a file next to the app, created on first run) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>When serving, apply Expand and Backfill migrations at start (never Contract: that is an operator's step).</summary>
    public bool MigrateOnStartup { get; set; } = true;
}

/// <summary><c>Erp</c> section: faults the in-process fake ERP injects (0 = never).</summary>
public sealed class ErpFaultOptions
{
    /// <summary>Every Nth ERP export is accepted twice under two keys (a double post).</summary>
    public int DuplicateEvery { get; set; }

    /// <summary>Every Nth ERP export fails with 503 on every retry (a failed export, left pending for reconciliation).</summary>
    public int FailEvery { get; set; }
}

/// <summary><c>ReleaseKit</c> section: how the gates judge this deploy.</summary>
public sealed class GateSettings
{
    /// <summary>The rollout ring this promotion reaches (0 = the canary tenant).</summary>
    public int PromoteRing { get; set; }

    /// <summary><c>Blocking</c> or <c>Advisory</c>: whether a release in month-end close fails the check or only warns.</summary>
    public string ReleaseWindowSeverity { get; set; } = "Blocking";

    /// <summary>Minimum exports before the invoice-export failure rate is judged (below: Inconclusive).</summary>
    public int HealthMinimumSampleSize { get; set; } = 30;
}

/// <summary>Validates the sample's own configuration at start, naming the option and the allowed values.</summary>
internal sealed class BillingOptionsValidator : IValidateOptions<ReleaseOptions>, IValidateOptions<DatabaseOptions>, IValidateOptions<ErpFaultOptions>, IValidateOptions<GateSettings>
{
    public ValidateOptionsResult Validate(string? name, ReleaseOptions options)
    {
        var failures = new List<string>();
        if (ReleaseProfile.Find(options.Version) is null)
        {
            failures.Add($"Release:Version is '{options.Version}'; allowed values are {string.Join(", ", ReleaseProfile.All.Select(r => r.Version))}.");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.HeartbeatInterval >= TimeSpan.FromMinutes(2))
        {
            failures.Add($"Release:HeartbeatInterval is {options.HeartbeatInterval}; allowed values are more than zero and less than the fleet's instance expiry (00:02:00).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, DatabaseOptions options) =>
        DatabaseOptions.Providers.Contains(options.Provider, StringComparer.OrdinalIgnoreCase)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Database:Provider is '{options.Provider}'; allowed values are {string.Join(", ", DatabaseOptions.Providers)} (set ConnectionStrings:Billing for postgres).");

    public ValidateOptionsResult Validate(string? name, ErpFaultOptions options) =>
        options.DuplicateEvery < 0 || options.FailEvery < 0
            ? ValidateOptionsResult.Fail($"Erp:DuplicateEvery ({options.DuplicateEvery}) and Erp:FailEvery ({options.FailEvery}) must be 0 (never) or more.")
            : ValidateOptionsResult.Success;

    public ValidateOptionsResult Validate(string? name, GateSettings options)
    {
        var failures = new List<string>();
        if (options.PromoteRing is < 0 or > 2)
        {
            failures.Add($"ReleaseKit:PromoteRing is {options.PromoteRing}; allowed values are 0, 1 and 2 (the rings of the configured tenants).");
        }

        if (!Enum.TryParse<ReleaseKit.Gates.GateSeverity>(options.ReleaseWindowSeverity, ignoreCase: true, out _))
        {
            failures.Add($"ReleaseKit:ReleaseWindowSeverity is '{options.ReleaseWindowSeverity}'; allowed values are Blocking and Advisory.");
        }

        if (options.HealthMinimumSampleSize < 1)
        {
            failures.Add($"ReleaseKit:HealthMinimumSampleSize is {options.HealthMinimumSampleSize}; it must be 1 or more.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>What a release knows and does.</summary>
/// <param name="Version">The release version.</param>
/// <param name="MaxMigrationVersion">The highest migration the release ships.</param>
/// <param name="PostsToErp">Exports go through the posting journal to the ERP (from 2026.12.1; per tenant behind the ErpPostings flag).</param>
/// <param name="WritesLegacyReference">Writes invoices.external_ref (until 2027.1.1 drops it).</param>
public sealed record ReleaseProfile(string Version, long MaxMigrationVersion, bool PostsToErp, bool WritesLegacyReference)
{
    /// <summary>Every release of this build, oldest first.</summary>
    public static readonly IReadOnlyList<ReleaseProfile> All =
    [
        new("2026.11.1", 202611010001, PostsToErp: false, WritesLegacyReference: true),
        new("2026.12.1", 202612010002, PostsToErp: true, WritesLegacyReference: true),
        new("2027.1.1", 202701010001, PostsToErp: true, WritesLegacyReference: false),
    ];

    /// <summary>The release a fresh clone plays: 2026.12.1, the one <c>release.json</c> describes.</summary>
    public static ReleaseProfile Default => All[1];

    /// <summary>Finds a release by version.</summary>
    public static ReleaseProfile? Find(string? version) => All.FirstOrDefault(r => string.Equals(r.Version, version, StringComparison.Ordinal));
}
