using System.CommandLine;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Hosting.Cli;

/// <summary><c>releasekit check</c>: runs the gates of one or more stages and writes the report.</summary>
internal static class CheckCommand
{
    /// <summary>The report format names <c>--format</c> accepts (<c>console</c> is an alias of <c>text</c>).</summary>
    public static readonly IReadOnlyList<string> FormatNames = ["text", "json", "junit", "markdown", "html"];

    private static readonly string[] StageNames = ["startup", "promotion", "postdeploy"];

    public static Command Create(CommandConsole console)
    {
        var manifest = new Option<string?>("--manifest")
        {
            Description = "Path of the release manifest (release.json). Default: the configured ReleaseKitHostingOptions.ManifestPath (release.json in the content root).",
            HelpName = "path",
        };
        var environment = new Option<string?>("--environment")
        {
            Description = "The environment the gates judge (for example staging or production). Default: the configured environment, else the host environment (DOTNET_ENVIRONMENT).",
            HelpName = "name",
        };
        var stage = new Option<string[]>("--stage")
        {
            Description = "The stage(s) whose gates run: startup, promotion or postdeploy. Repeat or separate with commas. Default: promotion.",
            HelpName = "stage",
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => ["promotion"],
        };
        stage.Validators.Add(result => ValidateList(result, "--stage", StageNames));
        var format = new Option<string[]>("--format")
        {
            Description = "Report format(s): text, json, junit, markdown, html. Repeat or separate with commas. Without --out they are written to standard output. Default: text.",
            HelpName = "format",
            DefaultValueFactory = _ => ["text"],
        };
        format.Validators.Add(result => ValidateList(result, "--format", [.. FormatNames, "console"]));
        var outDirectory = new Option<string?>("--out")
        {
            Description = "Write each report format to a file in this folder (releasekit-check.txt, .json, .junit.xml, .md, .html) and print the text report.",
            HelpName = "dir",
        };
        var record = new Option<bool>("--record")
        {
            Description = "When the release passes, record the manifest's artifact digest for this environment in the registered IArtifactRecordStore, so the next environment's artifact-identity gate can insist on the same build.",
        };
        var sampleInterval = CommandTree.DurationOption("--sample-interval", "Sampling mode: evaluate the gates every interval until all blocking gates pass in one round or --timeout expires (e.g. 30s, 5m).");
        var timeout = CommandTree.DurationOption("--timeout", "Sampling mode: how long to keep sampling before giving up (default 1h). Requires --sample-interval.");
        var reconcileSince = CommandTree.DurationOption("--reconcile-since", "HTML report: add a reconciliation summary of the postings journaled in this span up to now (e.g. 24h): a dry-run diff of the posting journal against the ERP that changes nothing. Requires --format html and ReleaseKit.Reconciliation.");
        var tag = new Option<string[]>("--tag")
        {
            Description = "Run only gates with one of these tags. Repeat or separate with commas.",
            HelpName = "tag",
        };
        var gate = new Option<string[]>("--gate")
        {
            Description = "Run only these gates (by name). Repeat or separate with commas.",
            HelpName = "name",
        };

        var command = new Command("check", "Run the release gates of a stage against this environment and write the report. Exit code 0 when the release may proceed (pass or warn), 1 when a blocking gate failed or was inconclusive, 2 on a usage or configuration error.");
        command.Options.Add(manifest);
        command.Options.Add(environment);
        command.Options.Add(stage);
        command.Options.Add(format);
        command.Options.Add(outDirectory);
        command.Options.Add(record);
        command.Options.Add(sampleInterval);
        command.Options.Add(timeout);
        command.Options.Add(reconcileSince);
        command.Options.Add(tag);
        command.Options.Add(gate);
        command.Validators.Add(result =>
        {
            if (result.GetResult(timeout) is not null && result.GetResult(sampleInterval) is null)
            {
                result.AddError("--timeout applies to sampling mode only: add --sample-interval (for example --sample-interval 30s --timeout 10m).");
            }
        });
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console,
            new CheckArguments(
                parseResult.GetValue(manifest),
                parseResult.GetValue(environment),
                Split(parseResult.GetValue(stage)),
                Split(parseResult.GetValue(format)),
                parseResult.GetValue(outDirectory),
                parseResult.GetValue(record),
                parseResult.GetValue(sampleInterval),
                parseResult.GetValue(timeout),
                Split(parseResult.GetValue(tag)),
                Split(parseResult.GetValue(gate)),
                parseResult.GetValue(reconcileSince)),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CommandConsole console, CheckArguments args, CancellationToken cancellationToken)
    {
        console.ValidateConfiguration();
        var services = console.Services;
        var runner = services.GetService<IReleaseGateRunner>();
        var registrations = services.GetService<IOptions<ReleaseGatesOptions>>()?.Value.Registrations ?? [];
        if (runner is null || registrations.Count == 0)
        {
            throw new UsageException("No release gates are registered. Register them where the application configures its services, for example: services.AddReleaseKit().AddGates(g => g.AddManifestCompletenessGate()).");
        }

        var environment = Internal.HostingContext.EnvironmentName(services, args.Environment)
            ?? throw new UsageException("No environment name: pass --environment <name> or set DOTNET_ENVIRONMENT.");
        var stages = args.Stages.Select(ParseStage).Distinct().ToArray();
        foreach (var name in args.Gates)
        {
            if (!registrations.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new UsageException($"--gate '{name}': no gate with that name is registered. Registered gates: {string.Join(", ", registrations.Select(r => r.Name))}.");
            }
        }

        var selected = registrations.Where(r => stages.Any(r.RunsIn)
            && (args.Gates.Count == 0 || args.Gates.Contains(r.Name, StringComparer.OrdinalIgnoreCase))
            && (args.Tags.Count == 0 || r.Tags.Any(t => args.Tags.Contains(t, StringComparer.OrdinalIgnoreCase)))).ToArray();
        if (selected.Length == 0)
        {
            var described = string.Join(", ", registrations.Select(r => $"{r.Name} ({string.Join('/', (r.Stages.Count == 0 ? (IEnumerable<GateStage>)[GateStage.Promotion] : r.Stages).Select(ReleaseGateRunner.StageName))}{(r.Tags.Count == 0 ? string.Empty : "; tags " + string.Join('/', r.Tags))})"));
            throw new UsageException($"No registered gate runs in stage {string.Join(", ", stages.Select(ReleaseGateRunner.StageName))}{(args.Tags.Count == 0 ? string.Empty : " with tag " + string.Join(" or ", args.Tags))}{(args.Gates.Count == 0 ? string.Empty : " among --gate " + string.Join(", ", args.Gates))}. Registered gates: {described}.");
        }

        await EnsureDatabaseReadableAsync(services, cancellationToken).ConfigureAwait(false);
        var manifestPath = args.Manifest ?? Internal.HostingContext.ConfiguredManifestPath(services);
        var manifest = await ReleaseManifestReader.ReadFileAsync(manifestPath, cancellationToken).ConfigureAwait(false);
        IArtifactRecordStore? store = null;
        if (args.Record)
        {
            store = services.GetService<IArtifactRecordStore>()
                ?? throw new UsageException("--record needs an artifact record store: register one with AddGates(g => g.UseFileArtifactStore(path)) or g.UseDbArtifactStore(dataSource).");
            if (string.IsNullOrWhiteSpace(manifest.ArtifactDigest))
            {
                throw new UsageException($"--record: the manifest '{manifestPath}' has no artifactDigest, so there is no artifact to record. Add \"artifactDigest\": \"sha256:...\" to it.");
            }
        }

        var formats = args.Formats.Select(f => string.Equals(f, "console", StringComparison.OrdinalIgnoreCase) ? "text" : f.ToLowerInvariant()).Distinct().ToArray();
        if (args.ReconcileSince is not null)
        {
            if (!formats.Contains("html"))
            {
                throw new UsageException("--reconcile-since fills the reconciliation section of the HTML report: add --format html (for example --format text,html --out reports).");
            }

            if (services.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(Reconciliation.Reconciler)))
            {
                throw new UsageException("--reconcile-since needs ReleaseKit.Reconciliation: register it with services.AddReleaseKit().AddReconciliation(sp => journalDataSource) and the application's IErpGateway.");
            }
        }

        if (args.OutDirectory is not null)
        {
            CommandTree.CreateOutDirectory(args.OutDirectory);
        }

        var request = new GateRunRequest
        {
            Manifest = manifest,
            EnvironmentName = environment,
            Stages = stages,
            Tags = args.Tags,
            GateNames = args.Gates,
            Sampling = args.SampleInterval is { } interval ? new GateSamplingOptions { Interval = interval, Timeout = args.Timeout ?? TimeSpan.FromHours(1) } : null,
        };
        GateReport report;
        try
        {
            report = await runner.RunAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex) when (ex.ParamName is "request" or "Sampling")
        {
            throw new UsageException(ex.Message, ex);
        }

        var releaseReport = formats.Contains("html")
            ? await ReleaseReportBuilder.BuildAsync(console, report, args.ReconcileSince, cancellationToken).ConfigureAwait(false)
            : new ReleaseReport(report);
        await WriteReportsAsync(console, releaseReport, formats, args.OutDirectory, cancellationToken).ConfigureAwait(false);
        var exitCode = report.ExitCode;
        if (store is not null)
        {
            exitCode = await RecordAsync(console, store, report, environment, exitCode, cancellationToken).ConfigureAwait(false);
        }

        return exitCode;
    }

    /// <summary>
    /// The application's database, when it registered one, must open: gates that read it (schema compatibility, contract
    /// safety, the reconciliation backlog) cannot decide without it, and a wrong connection string is a configuration
    /// error to fix (exit 2), not a verdict about the release.
    /// </summary>
    private static async Task EnsureDatabaseReadableAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<IServiceProviderIsService>() is not { } isService || !isService.IsService(typeof(System.Data.Common.DbDataSource)))
        {
            return;
        }

        var dataSource = services.GetRequiredService<System.Data.Common.DbDataSource>();
        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            throw new UsageException(Gates.Reporting.SecretRedactor.Redact($"Cannot open the application's database ({dataSource.ConnectionString}): {ex.Message} Check its connection string (appsettings.json, the environment) and that the file's folder or the server is reachable; the gates that read the database cannot decide without it."), ex);
        }
    }

    private static async Task<int> RecordAsync(CommandConsole console, IArtifactRecordStore store, GateReport report, string environment, int exitCode, CancellationToken cancellationToken)
    {
        if (exitCode != ReleaseKitExitCodes.Pass)
        {
            await console.Error.WriteLineAsync($"Not recorded: the release did not pass in {environment}, so its artifact digest was not recorded.").ConfigureAwait(false);
            return exitCode;
        }

        var timeProvider = console.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        var artifact = ArtifactRecord.ForRelease(report.Manifest, environment, timeProvider, "releasekit check");
        try
        {
            await store.RecordAsync(artifact, cancellationToken).ConfigureAwait(false);
        }
        catch (ArtifactRecordConflictException ex)
        {
            await console.Error.WriteLineAsync($"error: {Gates.Reporting.SecretRedactor.Redact(ex.Message)}").ConfigureAwait(false);
            return ReleaseKitExitCodes.Fail;
        }

        await console.Output.WriteLineAsync($"Recorded {artifact.ArtifactDigest} for release {artifact.ReleaseId} ({artifact.Version}) in {environment}.").ConfigureAwait(false);
        return exitCode;
    }

    private static async Task WriteReportsAsync(CommandConsole console, ReleaseReport releaseReport, string[] formats, string? outDirectory, CancellationToken cancellationToken)
    {
        if (outDirectory is null)
        {
            foreach (var format in formats)
            {
                Write(releaseReport, format, console.Output);
            }

            return;
        }

        foreach (var format in formats)
        {
            var path = Path.Combine(outDirectory, "releasekit-check" + Extension(format));
            var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 4096, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
                await using (writer.ConfigureAwait(false))
                {
                    Write(releaseReport, format, writer);
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        Write(releaseReport, "text", console.Output);
        foreach (var format in formats)
        {
            await console.Output.WriteLineAsync($"Wrote {Path.GetFullPath(Path.Combine(outDirectory, "releasekit-check" + Extension(format)))}").ConfigureAwait(false);
        }
    }

    private static void Write(ReleaseReport report, string format, TextWriter writer)
    {
        if (format == "html")
        {
            HtmlReleaseReportWriter.Write(report, writer);
        }
        else
        {
            GateReportWriter.Write(report.Gates, GateReportWriter.ParseFormat(format), writer);
        }
    }

    private static string Extension(string format) => format switch
    {
        "json" => ".json",
        "junit" => ".junit.xml",
        "markdown" => ".md",
        "html" => ".html",
        _ => ".txt",
    };

    private static GateStage ParseStage(string name) => name.ToLowerInvariant() switch
    {
        "startup" => GateStage.Startup,
        "postdeploy" => GateStage.PostDeploy,
        _ => GateStage.Promotion,
    };

    private static string[] Split(string[]? values) =>
        values is null ? [] : [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    private static void ValidateList(System.CommandLine.Parsing.OptionResult result, string option, string[] allowed)
    {
        foreach (var token in result.Tokens)
        {
            foreach (var value in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
                {
                    result.AddError($"{option} '{value}' is not allowed. Allowed values: {string.Join(", ", allowed)}.");
                }
            }
        }
    }

    private sealed record CheckArguments(
        string? Manifest,
        string? Environment,
        IReadOnlyList<string> Stages,
        IReadOnlyList<string> Formats,
        string? OutDirectory,
        bool Record,
        TimeSpan? SampleInterval,
        TimeSpan? Timeout,
        IReadOnlyList<string> Tags,
        IReadOnlyList<string> Gates,
        TimeSpan? ReconcileSince);
}
