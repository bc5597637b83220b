namespace ReleaseKit.Gates;

/// <summary>
/// What CI says about the release being checked: identity, provenance, approvals, the kinds of change it
/// makes and how to roll it back. Read from <c>release.json</c> with <see cref="ReleaseManifestReader"/>;
/// its JSON schema ships in the package (<c>schemas/release-manifest.schema.json</c>).
/// </summary>
public sealed class ReleaseManifest
{
    /// <summary>Gets the release's unique id (for example the CI pipeline run).</summary>
    public required string ReleaseId { get; init; }

    /// <summary>Gets the version being released (for example <c>2026.11.3</c>).</summary>
    public required string Version { get; init; }

    /// <summary>Gets the full commit hash the release was built from.</summary>
    public string? Commit { get; init; }

    /// <summary>Gets the digest of the built artifact, <c>sha256:&lt;64 hex&gt;</c> (or sha384/sha512).</summary>
    public string? ArtifactDigest { get; init; }

    /// <summary>Gets when the artifact was built.</summary>
    public DateTimeOffset? BuildTime { get; init; }

    /// <summary>Gets who authored the change (a user id in the approval system).</summary>
    public string? Author { get; init; }

    /// <summary>Gets who approved the release (user ids in the approval system).</summary>
    public IReadOnlyList<string> Approvers { get; init; } = [];

    /// <summary>Gets the kinds of change the release makes; see <see cref="ChangeClasses"/> for the well-known ones.</summary>
    public IReadOnlyList<string> ChangeClasses { get; init; } = [];

    /// <summary>Gets the ids of the schema migrations the release contains.</summary>
    public IReadOnlyList<string> Migrations { get; init; } = [];

    /// <summary>Gets the feature flags the release introduces.</summary>
    public IReadOnlyList<string> FeatureFlags { get; init; } = [];

    /// <summary>Gets how to roll the release back.</summary>
    public string? RollbackInstructions { get; init; }

    /// <summary>Gets where the manifest was read from (a file path), when it was read from one.</summary>
    public string? Source { get; init; }

    /// <summary>Whether the release declares the given change class (ordinal, case-insensitive).</summary>
    /// <param name="changeClass">The change class.</param>
    /// <returns><see langword="true"/> when declared.</returns>
    public bool HasChangeClass(string changeClass) =>
        ChangeClasses.Any(c => string.Equals(c, changeClass, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc />
    public override string ToString() => $"{ReleaseId} ({Version})";
}

/// <summary>The well-known change classes. Applications may declare their own (PascalCase identifiers).</summary>
public static class ChangeClasses
{
    /// <summary>The release changes the database schema.</summary>
    public const string SchemaMigration = nameof(SchemaMigration);

    /// <summary>The release changes a contract with another system (an API, an ERP export format, a message).</summary>
    public const string IntegrationContract = nameof(IntegrationContract);

    /// <summary>The release changes identities, roles or permissions.</summary>
    public const string IdentityModel = nameof(IdentityModel);

    /// <summary>The release changes how money is calculated, invoiced or posted.</summary>
    public const string BillingLogic = nameof(BillingLogic);

    /// <summary>The release changes configuration only.</summary>
    public const string Configuration = nameof(Configuration);

    /// <summary>The release changes infrastructure (hosts, networks, queues).</summary>
    public const string Infrastructure = nameof(Infrastructure);

    /// <summary>The release changes user-facing behaviour without touching the above.</summary>
    public const string Feature = nameof(Feature);

    /// <summary>Gets the well-known change classes.</summary>
    public static IReadOnlyList<string> WellKnown { get; } =
        [SchemaMigration, IntegrationContract, IdentityModel, BillingLogic, Configuration, Infrastructure, Feature];
}
