using ReleaseKit.Hosting;

namespace Microsoft.Extensions.Hosting;

/// <summary>Runs the <c>releasekit</c> command inside the application.</summary>
public static class ReleaseKitHostExtensions
{
    /// <summary>
    /// When <paramref name="args"/> start with <c>releasekit</c>, runs the command against the host's services (without
    /// starting the host), sets <see cref="Environment.ExitCode"/> (0 pass, 1 fail, 2 usage or configuration error) and
    /// returns <see langword="true"/>; otherwise returns <see langword="false"/> and does nothing.
    /// </summary>
    /// <param name="host">The built host (for example a <c>WebApplication</c>).</param>
    /// <param name="args">The process arguments.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Whether the arguments were a <c>releasekit</c> command (then the application should exit).</returns>
    /// <example><code>if (await app.RunReleaseKitCommandAsync(args)) return;</code></example>
    public static async Task<bool> RunReleaseKitCommandAsync(this IHost host, string[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!ReleaseKitCommandLine.IsReleaseKitCommand(args))
        {
            return false;
        }

        Environment.ExitCode = await ReleaseKitCommandLine.InvokeAsync(host.Services, args, Console.Out, Console.Error, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
