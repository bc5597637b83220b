using System.CommandLine;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Hosting.Cli;

namespace ReleaseKit.Hosting;

/// <summary>The process exit codes of the <c>releasekit</c> command.</summary>
public static class ReleaseKitExitCodes
{
    /// <summary>The release may proceed: every blocking gate passed (or warned), the migration step succeeded, the health verdict is Healthy or Degraded.</summary>
    public const int Pass = 0;

    /// <summary>The release must not proceed: a gate failed or was inconclusive, a migration was refused or failed, lint found violations, health is Inconclusive or RollBack.</summary>
    public const int Fail = 1;

    /// <summary>Usage or configuration error: unknown verb or option, missing or malformed manifest, no gates registered, options validation failure.</summary>
    public const int UsageError = 2;
}

/// <summary>
/// Runs the <c>releasekit</c> command (<c>check</c>, <c>rehearse</c>, <c>migrations</c>, <c>reconcile</c>, <c>health</c>) against an application's own service
/// provider. Most applications call <c>host.RunReleaseKitCommandAsync(args)</c> instead.
/// </summary>
/// <example>
/// <code>
/// var exitCode = await ReleaseKitCommandLine.InvokeAsync(app.Services, ["releasekit", "check", "--stage", "promotion"]);
/// </code>
/// </example>
public static class ReleaseKitCommandLine
{
    /// <summary>The first argument that turns the application into its own release checker: <c>releasekit</c>.</summary>
    public const string CommandName = "releasekit";

    /// <summary>Returns whether the arguments start with <see cref="CommandName"/> (exactly, case-sensitive).</summary>
    /// <param name="args">The process arguments.</param>
    /// <returns><see langword="true"/> when the first argument is <c>releasekit</c>.</returns>
    public static bool IsReleaseKitCommand(IReadOnlyList<string>? args) =>
        args is { Count: > 0 } && string.Equals(args[0], CommandName, StringComparison.Ordinal);

    /// <summary>Parses and runs a <c>releasekit</c> command line.</summary>
    /// <param name="services">The application's service provider (gates, migrations and health criteria are resolved from it).</param>
    /// <param name="args">The arguments, starting with <c>releasekit</c>.</param>
    /// <param name="output">Where reports and help go; <see cref="Console.Out"/> when <see langword="null"/>.</param>
    /// <param name="error">Where errors go; <see cref="Console.Error"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The exit code: <see cref="ReleaseKitExitCodes.Pass"/>, <see cref="ReleaseKitExitCodes.Fail"/> or <see cref="ReleaseKitExitCodes.UsageError"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="args"/> does not start with <c>releasekit</c>.</exception>
    public static async Task<int> InvokeAsync(IServiceProvider services, IReadOnlyList<string> args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(args);
        if (!IsReleaseKitCommand(args))
        {
            throw new ArgumentException($"The arguments must start with '{CommandName}'.", nameof(args));
        }

        output ??= Console.Out;
        error ??= Console.Error;
        var console = new CommandConsole(services, output, error);
        var root = CommandTree.Build(console);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}").ConfigureAwait(false);
            }

            var command = parseResult.CommandResult.Command;
            var path = command == root ? CommandName : CommandTree.PathOf(parseResult);
            await error.WriteLineAsync($"Run '{path} --help' to see the verbs and options.").ConfigureAwait(false);
            return ReleaseKitExitCodes.UsageError;
        }

        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ReleaseKitExitCodes.UsageError;
        }
        catch (ReleaseManifestException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            await error.WriteLineAsync("Pass the manifest with --manifest <path> (see docs/release-manifest.md for its fields).").ConfigureAwait(false);
            return ReleaseKitExitCodes.UsageError;
        }
        catch (OptionsValidationException ex)
        {
            await WriteOptionsErrorsAsync(error, [ex]).ConfigureAwait(false);
            return ReleaseKitExitCodes.UsageError;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            await WriteOptionsErrorsAsync(error, ex.InnerExceptions.Cast<OptionsValidationException>()).ConfigureAwait(false);
            return ReleaseKitExitCodes.UsageError;
        }
    }

    private static async Task WriteOptionsErrorsAsync(TextWriter error, IEnumerable<OptionsValidationException> exceptions)
    {
        await error.WriteLineAsync("error: the application's ReleaseKit configuration is invalid:").ConfigureAwait(false);
        foreach (var exception in exceptions)
        {
            foreach (var failure in exception.Failures)
            {
                await error.WriteLineAsync($"  {exception.OptionsType.Name}: {failure}").ConfigureAwait(false);
            }
        }
    }
}
