namespace ReleaseKit.Gates;

/// <summary>
/// Thrown when a release is recorded for an environment with a digest other than the one already recorded: an
/// artifact that passed an environment is immutable, so the record is never overwritten.
/// </summary>
public sealed class ArtifactRecordConflictException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public ArtifactRecordConflictException()
        : base("The release was already recorded for this environment with a different artifact digest.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ArtifactRecordConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ArtifactRecordConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a refused record.</summary>
    /// <param name="existing">What is recorded.</param>
    /// <param name="attempted">What was to be recorded.</param>
    public ArtifactRecordConflictException(ArtifactRecord existing, ArtifactRecord attempted)
        : base(CreateMessage(existing, attempted))
    {
        Existing = existing;
        Attempted = attempted;
    }

    /// <summary>Gets what is recorded, when known.</summary>
    public ArtifactRecord? Existing { get; }

    /// <summary>Gets what was to be recorded, when known.</summary>
    public ArtifactRecord? Attempted { get; }

    private static string CreateMessage(ArtifactRecord existing, ArtifactRecord attempted)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(attempted);
        var by = existing.RecordedBy is null ? string.Empty : $" by {existing.RecordedBy}";
        return $"Release {existing.ReleaseId} ({existing.Version}) is already recorded in '{existing.Environment}' with artifact {existing.ArtifactDigest} "
            + $"(recorded {existing.RecordedAt:O}{by}); it cannot be recorded again with {attempted.ArtifactDigest}. "
            + "An artifact that passed an environment is immutable: build a new release (a new version) instead.";
    }
}
