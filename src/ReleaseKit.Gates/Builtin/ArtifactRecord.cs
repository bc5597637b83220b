namespace ReleaseKit.Gates;

/// <summary>
/// The artifact a release was running when it passed an environment: release id, version, environment and the
/// artifact's digest, with when and by whom it was recorded. Kept by an <see cref="IArtifactRecordStore"/> so a later
/// promotion can prove it ships the same artifact ("build once, promote the same artifact").
/// </summary>
/// <remarks>
/// Environment names are case-insensitive and kept in lower case. <see cref="RecordedAt"/> is kept in UTC, truncated to
/// whole microseconds (what PostgreSQL stores), so a record reads back equal to what was written.
/// </remarks>
public sealed record ArtifactRecord
{
    /// <summary>Creates a record.</summary>
    /// <param name="releaseId">The release's id (as in <see cref="ReleaseManifest.ReleaseId"/>).</param>
    /// <param name="version">The release's version (as in <see cref="ReleaseManifest.Version"/>).</param>
    /// <param name="environment">The environment the release passed, for example <c>staging</c>.</param>
    /// <param name="artifactDigest">The artifact's digest: <c>sha256:</c> and 64 lower-case hex digits (or sha384/sha512).</param>
    /// <param name="recordedAt">When it was recorded (take it from a <see cref="TimeProvider"/>).</param>
    /// <param name="recordedBy">Who or what recorded it (a CI job, a user id), if known.</param>
    /// <exception cref="ArgumentException">A value is empty, too long, padded with spaces, or the digest is malformed.</exception>
    public ArtifactRecord(string releaseId, string version, string environment, string artifactDigest, DateTimeOffset recordedAt, string? recordedBy = null)
    {
        RequireIdentifier(releaseId, nameof(releaseId));
        RequireIdentifier(version, nameof(version));
        RequireIdentifier(environment, nameof(environment));
        if (!ManifestFormats.IsArtifactDigest(artifactDigest))
        {
            throw new ArgumentException(
                $"The artifact digest '{artifactDigest}' is malformed: expected 'sha256:' and 64 lower-case hex digits, 'sha384:' and 96, or 'sha512:' and 128.",
                nameof(artifactDigest));
        }

        if (recordedBy is not null && recordedBy.Length > 200)
        {
            throw new ArgumentException("RecordedBy must be at most 200 characters.", nameof(recordedBy));
        }

        ReleaseId = releaseId;
        Version = version;
        Environment = environment.ToLowerInvariant();
        ArtifactDigest = artifactDigest;
        var utc = recordedAt.ToUniversalTime();
        RecordedAt = new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
        RecordedBy = string.IsNullOrWhiteSpace(recordedBy) ? null : recordedBy.Trim();
    }

    /// <summary>Gets the release's id.</summary>
    public string ReleaseId { get; }

    /// <summary>Gets the release's version.</summary>
    public string Version { get; }

    /// <summary>Gets the environment the release passed, in lower case.</summary>
    public string Environment { get; }

    /// <summary>Gets the artifact's digest, for example <c>sha256:9f86d0…</c>.</summary>
    public string ArtifactDigest { get; }

    /// <summary>Gets when it was recorded, in UTC.</summary>
    public DateTimeOffset RecordedAt { get; }

    /// <summary>Gets who or what recorded it, if known.</summary>
    public string? RecordedBy { get; }

    /// <summary>Creates the record of a release's artifact passing an environment, stamped with the current time.</summary>
    /// <param name="manifest">The release manifest; it must carry an <see cref="ReleaseManifest.ArtifactDigest"/>.</param>
    /// <param name="environment">The environment the release passed.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="recordedBy">Who or what records it, if known.</param>
    /// <returns>The record.</returns>
    /// <exception cref="ArgumentException">The manifest has no digest or a malformed one.</exception>
    public static ArtifactRecord ForRelease(ReleaseManifest manifest, string environment, TimeProvider timeProvider, string? recordedBy = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (string.IsNullOrWhiteSpace(manifest.ArtifactDigest))
        {
            throw new ArgumentException($"Release {manifest} has no ArtifactDigest, so there is no artifact to record.", nameof(manifest));
        }

        return new ArtifactRecord(manifest.ReleaseId, manifest.Version, environment, manifest.ArtifactDigest, timeProvider.GetUtcNow(), recordedBy);
    }

    /// <inheritdoc />
    public override string ToString() => $"{ReleaseId} ({Version}) in {Environment}: {ArtifactDigest}";

    private static void RequireIdentifier(string value, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(value, parameterName);
        if (!ManifestFormats.IsIdentifier(value))
        {
            throw new ArgumentException($"The {parameterName} '{value}' is invalid: it must be 1 to 200 characters without leading or trailing spaces.", parameterName);
        }
    }
}
