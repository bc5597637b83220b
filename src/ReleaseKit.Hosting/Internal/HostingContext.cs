using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Hosting.Internal;

/// <summary>Resolves the manifest path and environment name from <see cref="ReleaseKitHostingOptions"/> and the host environment.</summary>
internal static class HostingContext
{
    public static ReleaseKitHostingOptions Options(IServiceProvider services) =>
        services.GetService<IOptions<ReleaseKitHostingOptions>>()?.Value ?? new ReleaseKitHostingOptions();

    public static string? EnvironmentName(IServiceProvider services, string? explicitName)
    {
        if (!string.IsNullOrWhiteSpace(explicitName))
        {
            return explicitName;
        }

        var configured = Options(services).EnvironmentName;
        return !string.IsNullOrWhiteSpace(configured) ? configured : services.GetService<IHostEnvironment>()?.EnvironmentName;
    }

    /// <summary>The configured manifest path, relative paths resolved against the content root.</summary>
    public static string ConfiguredManifestPath(IServiceProvider services)
    {
        var path = Options(services).ManifestPath;
        var root = services.GetService<IHostEnvironment>()?.ContentRootPath;
        return Path.IsPathRooted(path) || string.IsNullOrEmpty(root) ? path : Path.Combine(root, path);
    }

    public static Task<ReleaseManifest> ReadConfiguredManifestAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        ReleaseManifestReader.ReadFileAsync(ConfiguredManifestPath(services), cancellationToken);
}
