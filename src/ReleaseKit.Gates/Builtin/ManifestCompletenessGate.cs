using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>Options of the manifest completeness gate.</summary>
public sealed class ManifestCompletenessOptions
{
    /// <summary>Gets or sets whether a full commit hash is required. Default <see langword="true"/>.</summary>
    public bool RequireCommit { get; set; } = true;

    /// <summary>Gets or sets whether an artifact digest is required. Default <see langword="true"/>.</summary>
    public bool RequireArtifactDigest { get; set; } = true;

    /// <summary>Gets or sets whether rollback instructions are required. Default <see langword="true"/>.</summary>
    public bool RequireRollbackInstructions { get; set; } = true;

    /// <summary>Gets or sets the shortest rollback instructions accepted, in characters. Default 20 ("see runbook" is not enough).</summary>
    public int MinimumRollbackInstructionsLength { get; set; } = 20;

    /// <summary>Gets or sets whether at least one change class is required. Default <see langword="true"/>.</summary>
    public bool RequireChangeClasses { get; set; } = true;
}

/// <summary>
/// Checks that the release manifest says what a release needs: a version, the full commit, the artifact digest,
/// migration ids when (and only when) the release migrates the schema, and rollback instructions — present and
/// well-formed. Register with <c>AddManifestCompletenessGate()</c>.
/// </summary>
internal sealed class ManifestCompletenessGate(IOptionsMonitor<ManifestCompletenessOptions> options) : IReleaseGate
{
    public ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = options.Get(context.GateName);
        var manifest = context.Manifest;
        var problems = new List<Evidence>();
        var source = manifest.Source;

        void Problem(string field, string? observed, string expected) => problems.Add(new Evidence(field, observed ?? "(missing)", expected, source: source));

        if (!ManifestFormats.IsVersion(manifest.Version))
        {
            Problem("version", manifest.Version, "a version such as 2026.11.3");
        }

        if (manifest.Commit is null ? settings.RequireCommit : !ManifestFormats.IsCommit(manifest.Commit))
        {
            Problem("commit", manifest.Commit, "the full commit hash: 40 (or 64) lower-case hex digits");
        }

        if (manifest.ArtifactDigest is null ? settings.RequireArtifactDigest : !ManifestFormats.IsArtifactDigest(manifest.ArtifactDigest))
        {
            Problem("artifactDigest", manifest.ArtifactDigest, "sha256:<64 hex>, sha384:<96 hex> or sha512:<128 hex>");
        }

        if (settings.RequireChangeClasses && manifest.ChangeClasses.Count == 0)
        {
            Problem("changeClasses", null, $"at least one change class ({string.Join(", ", ChangeClasses.WellKnown)}, or the application's own)");
        }

        var migrates = manifest.HasChangeClass(ChangeClasses.SchemaMigration);
        if (migrates && manifest.Migrations.Count == 0)
        {
            Problem("migrations", null, "the ids of the migrations, because changeClasses includes SchemaMigration");
        }
        else if (!migrates && manifest.Migrations.Count > 0)
        {
            Problem("changeClasses", string.Join(", ", manifest.ChangeClasses), "SchemaMigration, because the manifest lists migrations");
        }

        foreach (var id in manifest.Migrations.Where(id => !ManifestFormats.IsMigrationId(id)))
        {
            Problem("migrations", id, "a migration id: letters, digits, '.', '_' or '-', at most 128 characters");
        }

        var rollback = manifest.RollbackInstructions?.Trim();
        if (string.IsNullOrEmpty(rollback) ? settings.RequireRollbackInstructions : rollback.Length < settings.MinimumRollbackInstructionsLength)
        {
            Problem("rollbackInstructions", rollback, $"instructions of at least {settings.MinimumRollbackInstructionsLength} characters saying how to roll back");
        }

        if (problems.Count == 0)
        {
            return ValueTask.FromResult(GateResult.Pass(
                $"The manifest of {manifest.ReleaseId} is complete.",
                new Evidence("version", manifest.Version, source: source),
                new Evidence("commit", manifest.Commit, source: source),
                new Evidence("artifactDigest", manifest.ArtifactDigest, source: source),
                Evidence.Of("migrations", manifest.Migrations.Count, source: source)));
        }

        var fields = string.Join(", ", problems.Select(p => p.Name).Distinct());
        return ValueTask.FromResult(GateResult.Fail($"The manifest of {manifest.ReleaseId} is incomplete or malformed: {fields}.", problems));
    }
}

internal sealed class ManifestCompletenessOptionsValidator : IValidateOptions<ManifestCompletenessOptions>
{
    public ValidateOptionsResult Validate(string? name, ManifestCompletenessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MinimumRollbackInstructionsLength is < 0 or > 10_000
            ? ValidateOptionsResult.Fail($"Gate '{name}': MinimumRollbackInstructionsLength is {options.MinimumRollbackInstructionsLength}; allowed is 0 to 10000.")
            : ValidateOptionsResult.Success;
    }
}
