using Microsoft.Extensions.Options;

namespace ReleaseKit.Hosting;

/// <summary>Where the running application finds its release manifest and environment name.</summary>
/// <remarks>
/// Used as the defaults of <c>releasekit check</c> (<c>--manifest</c>, <c>--environment</c>), by the readiness check and by
/// the deployment marker.
/// </remarks>
public sealed class ReleaseKitHostingOptions
{
    /// <summary>Gets or sets the path of <c>release.json</c>; a relative path is resolved against the host's content root. Default <c>release.json</c>.</summary>
    public string ManifestPath { get; set; } = "release.json";

    /// <summary>Gets or sets the environment name the gates see; when <see langword="null"/>, the host environment's name (<c>DOTNET_ENVIRONMENT</c>/<c>ASPNETCORE_ENVIRONMENT</c>).</summary>
    public string? EnvironmentName { get; set; }
}

/// <summary>Validates <see cref="ReleaseKitHostingOptions"/>.</summary>
internal sealed class ReleaseKitHostingOptionsValidator : IValidateOptions<ReleaseKitHostingOptions>
{
    public ValidateOptionsResult Validate(string? name, ReleaseKitHostingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>(2);
        if (string.IsNullOrWhiteSpace(options.ManifestPath))
        {
            failures.Add("ReleaseKitHostingOptions.ManifestPath is empty: set it to the path of release.json (relative paths are resolved against the content root).");
        }

        if (options.EnvironmentName is not null && string.IsNullOrWhiteSpace(options.EnvironmentName))
        {
            failures.Add("ReleaseKitHostingOptions.EnvironmentName is blank: set it to the environment's name (for example 'staging' or 'production') or leave it null to use the host environment.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
