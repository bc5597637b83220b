using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>
/// "Build once, promote the same artifact": passes only when the manifest's artifact digest equals the one recorded
/// when the same release (id and version) passed the source environment.
/// </summary>
internal sealed class ArtifactIdentityGate(IOptionsMonitor<ArtifactIdentityOptions> optionsMonitor) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = optionsMonitor.Get(context.GateName);
        var manifest = context.Manifest;
        var source = options.SourceEnvironment;
        var release = Evidence.Of("release", $"{manifest.ReleaseId} ({manifest.Version})", source: manifest.Source);
        var sourceEvidence = Evidence.Of("source_environment", source);

        if (string.Equals(context.EnvironmentName, source, StringComparison.OrdinalIgnoreCase))
        {
            return GateResult.Fail(
                $"The gate compares the artifact with the one that passed '{source}', but it is running for '{context.EnvironmentName}' itself; run it when promoting out of '{source}' or set SourceEnvironment to the environment before it.",
                release,
                sourceEvidence);
        }

        var digest = manifest.ArtifactDigest;
        if (string.IsNullOrWhiteSpace(digest))
        {
            return GateResult.Fail($"Release {manifest} has no ArtifactDigest in its manifest, so it cannot be shown to be the artifact that passed '{source}'.", release, sourceEvidence);
        }

        var promoted = Evidence.Of("promoted_digest", digest, source: manifest.Source ?? "release manifest");
        if (!ManifestFormats.IsArtifactDigest(digest))
        {
            return GateResult.Fail(
                $"The manifest's ArtifactDigest '{digest}' is malformed: expected 'sha256:' and 64 lower-case hex digits, 'sha384:' and 96, or 'sha512:' and 128.",
                release,
                promoted);
        }

        var store = options.Store ?? context.Services.GetService<IArtifactRecordStore>();
        if (store is null)
        {
            return GateResult.Fail("No artifact record store is configured (UseFileArtifactStore, UseDbArtifactStore or ArtifactIdentityOptions.Store).", release, promoted);
        }

        var storeEvidence = Evidence.Of("store", store.ToString() ?? store.GetType().Name);
        ArtifactRecord? record;
        try
        {
            record = await store.FindAsync(manifest.ReleaseId, manifest.Version, source, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            return GateResult.Inconclusive(
                $"The artifact record store ({storeEvidence.Observed}) did not answer: {ex.Message} Whether release {manifest} passed '{source}' with this artifact is unknown.",
                release,
                promoted,
                sourceEvidence,
                storeEvidence,
                Evidence.Of("error", ex.GetType().Name));
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return GateResult.Fail(
                $"The artifact record store ({storeEvidence.Observed}) could not be read: {ex.Message}",
                release,
                promoted,
                sourceEvidence,
                storeEvidence,
                Evidence.Of("error", ex.GetType().Name));
        }

        if (record is null)
        {
            return GateResult.Fail(
                $"Release {manifest.ReleaseId} ({manifest.Version}) never passed '{source}': no artifact is recorded for it there.",
                release,
                promoted,
                sourceEvidence,
                storeEvidence);
        }

        var recorded = new List<Evidence>
        {
            release,
            Evidence.Of("artifact_digest", digest, record.ArtifactDigest, source: $"{source} record"),
            promoted,
            Evidence.Of("recorded_digest", record.ArtifactDigest, source: $"{storeEvidence.Observed}, environment '{record.Environment}'"),
            Evidence.Of("recorded_at", record.RecordedAt.ToString("O", CultureInfo.InvariantCulture)),
        };
        if (record.RecordedBy is not null)
        {
            recorded.Add(Evidence.Of("recorded_by", record.RecordedBy));
        }

        recorded.Add(sourceEvidence);
        recorded.Add(storeEvidence);

        if (!string.Equals(record.ArtifactDigest, digest, StringComparison.Ordinal))
        {
            var algorithms = Algorithm(digest) == Algorithm(record.ArtifactDigest)
                ? string.Empty
                : $" (the digests use different algorithms, {Algorithm(digest)} and {Algorithm(record.ArtifactDigest)}: record and promote with the same one)";
            return GateResult.Fail(
                $"The artifact being promoted ({digest}) is not the one that passed '{source}' ({record.ArtifactDigest}){algorithms}; promote the artifact that was tested, or run the new one through '{source}' first.",
                recorded);
        }

        return GateResult.Pass(
            $"The artifact being promoted is the one that passed '{source}' on {record.RecordedAt.ToString("u", CultureInfo.InvariantCulture)}.",
            recorded);
    }

    private static string Algorithm(string digest) => digest[..digest.IndexOf(':', StringComparison.Ordinal)];

    private static bool IsUnavailable(Exception exception) => exception switch
    {
        TimeoutException => true,
        DbException { IsTransient: true } => true,
        OperationCanceledException => true, // A driver's own timeout, not the gate's token.
        _ => exception.InnerException is TimeoutException,
    };
}
