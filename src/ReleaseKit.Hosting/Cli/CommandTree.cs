using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Hosting.Cli;

/// <summary>What a verb needs: the application's services and where to write.</summary>
internal sealed class CommandConsole(IServiceProvider services, TextWriter output, TextWriter error)
{
    public IServiceProvider Services { get; } = services;

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>Runs the options validation the host would run at start (ValidateOnStart), so bad configuration is exit code 2.</summary>
    public void ValidateConfiguration() => Services.GetService<IStartupValidator>()?.Validate();
}

/// <summary>Builds the <c>releasekit</c> command tree.</summary>
internal static class CommandTree
{
    public static RootCommand Build(CommandConsole console)
    {
        var releasekit = new Command(ReleaseKitCommandLine.CommandName, "ReleaseKit: check this build's release gates, run its migrations by phase, and judge its health after a deploy. Exit codes: 0 pass, 1 fail, 2 usage or configuration error.");
        releasekit.Subcommands.Add(CheckCommand.Create(console));
        releasekit.Subcommands.Add(MigrationsCommand.Create(console));
        releasekit.Subcommands.Add(HealthCommand.Create(console));
        releasekit.Subcommands.Add(RehearseCommand.Create(console));
        releasekit.Subcommands.Add(ReconcileCommand.Create(console));
        var root = new RootCommand("The application, run as its own release checker.");
        root.Subcommands.Add(releasekit);
        return root;
    }

    /// <summary>The command path for a hint, e.g. <c>releasekit migrations apply</c>.</summary>
    public static string PathOf(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (result.Command is not RootCommand)
            {
                names.Insert(0, result.Command.Name);
            }
        }

        return string.Join(' ', names);
    }

    /// <summary>Parses a duration: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1d</c> or a TimeSpan such as <c>00:05:00</c>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        foreach (var (suffix, seconds) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && double.IsFinite(value))
            {
                duration = TimeSpan.FromSeconds(value * seconds);
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration);
    }

    /// <summary>Creates the <c>--out</c> folder before any work, so a folder that cannot be written is exit 2 up front.</summary>
    public static void CreateOutDirectory(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"--out '{path}': the folder cannot be created: {ex.Message} Pass a writable directory.", ex);
        }
    }

    /// <summary>A duration option that must be greater than zero.</summary>
    public static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "duration",
        CustomParser = result =>
        {
            var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!TryParseDuration(token, out var duration) || duration <= TimeSpan.Zero)
            {
                result.AddError($"{name} '{token}' is not a positive duration: use 500ms, 30s, 5m, 1h, 1d or hh:mm:ss.");
                return null;
            }

            return duration;
        },
    };
}
