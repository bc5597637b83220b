namespace ReleaseKit.Gates;

/// <summary>
/// Keeps which artifact each release was running when it passed an environment. Records are immutable: recording the
/// same release and environment again with the same digest is a no-op, with a different digest an error.
/// </summary>
/// <remarks>
/// Register one with <c>UseFileArtifactStore(path)</c> or <c>UseDbArtifactStore(dataSource)</c> on the gates builder;
/// the artifact identity gate and the step that records a release after it passed staging share it.
/// </remarks>
public interface IArtifactRecordStore
{
    /// <summary>Records that a release passed an environment with an artifact.</summary>
    /// <param name="record">The record.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored record: <paramref name="record"/>, or the earlier identical one (with its original time) when it was recorded before.</returns>
    /// <exception cref="ArtifactRecordConflictException">The release was already recorded for the environment with a different digest.</exception>
    Task<ArtifactRecord> RecordAsync(ArtifactRecord record, CancellationToken cancellationToken = default);

    /// <summary>Finds what was recorded for a release in an environment.</summary>
    /// <param name="releaseId">The release's id.</param>
    /// <param name="version">The release's version.</param>
    /// <param name="environment">The environment (case-insensitive).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The record, or <see langword="null"/> when none was recorded.</returns>
    Task<ArtifactRecord?> FindAsync(string releaseId, string version, string environment, CancellationToken cancellationToken = default);
}
