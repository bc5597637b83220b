using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>
/// Options of the artifact identity gate (registered with <c>AddArtifactIdentityGate</c>): which environment the
/// release must have passed with the same artifact, and where that is recorded. Validated at startup.
/// </summary>
public sealed class ArtifactIdentityOptions
{
    /// <summary>Gets or sets the environment whose recorded artifact the promoted one must equal. Default <c>staging</c>.</summary>
    public string SourceEnvironment { get; set; } = "staging";

    /// <summary>
    /// Gets or sets the store to read. When <see langword="null"/> (the default) the <see cref="IArtifactRecordStore"/>
    /// registered in the container is used (<c>UseFileArtifactStore</c>, <c>UseDbArtifactStore</c>).
    /// </summary>
    public IArtifactRecordStore? Store { get; set; }
}

/// <summary>Validates <see cref="ArtifactIdentityOptions"/> at startup, naming the option and the allowed values.</summary>
internal sealed class ArtifactIdentityOptionsValidator(IServiceProviderIsService? isService = null) : IValidateOptions<ArtifactIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, ArtifactIdentityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var gate = $"Artifact identity gate '{name}'";
        var failures = new List<string>();
        if (!ManifestFormats.IsIdentifier(options.SourceEnvironment))
        {
            failures.Add($"{gate}: SourceEnvironment '{options.SourceEnvironment}' is invalid; set the environment the release must have passed (1 to 200 characters without surrounding spaces), for example 'staging'.");
        }

        if (options.Store is null && isService is not null && !isService.IsService(typeof(IArtifactRecordStore)))
        {
            failures.Add($"{gate}: no artifact record store is configured; call UseFileArtifactStore(path) or UseDbArtifactStore(dataSource) on the gates builder, register an IArtifactRecordStore, or set Store.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
