using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReleaseKit.Gates;
using ReleaseKit.Hosting;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

/// <summary>A real host with ReleaseKit registered the way an application does it, files in a temp folder, and the command run in-process.</summary>
internal sealed class TestApp : IDisposable
{
    public const string ValidManifest = """
        {
          "schemaVersion": 1,
          "releaseId": "2026.11.27-1",
          "version": "4.2.0",
          "commit": "9f1c2e7d4b5a69788c0d1e2f3a4b5c6d7e8f9012",
          "artifactDigest": "sha256:5d41402abc4b2a76b9719d911017c592ae1f6b1d3e8ab3bb6c5b1f0d4cb2a0c1",
          "author": "ana",
          "approvers": ["ben"],
          "changeClasses": ["Feature"],
          "rollbackInstructions": "Redeploy 4.1.3 with the pipeline's rollback job; no schema change to undo."
        }
        """;

    private IHost? _host;

    public TestApp(Action<IServiceCollection, IReleaseKitBuilder> configure, string? manifest = ValidManifest)
    {
        Directory = new TempDirectory();
        if (manifest is not null)
        {
            ManifestPath = Directory.Write("release.json", manifest);
        }
        else
        {
            ManifestPath = Directory.File("release.json");
        }

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "staging", ContentRootPath = Directory.Path, DisableDefaults = true });
        configure(builder.Services, builder.Services.AddReleaseKit());
        _host = builder.Build();
    }

    public TempDirectory Directory { get; }

    public string ManifestPath { get; }

    public IHost Host => _host!;

    public IServiceProvider Services => Host.Services;

    /// <summary>Runs <c>releasekit ...</c> in-process and captures its output.</summary>
    public async Task<CommandRun> RunAsync(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var exitCode = await ReleaseKitCommandLine.InvokeAsync(Services, ["releasekit", .. args], output, error, TestContext.Current.CancellationToken);
        return new CommandRun(exitCode, output.ToString(), error.ToString());
    }

    public static TestApp WithGates(Action<IReleaseGatesBuilder> gates, string? manifest = ValidManifest, Action<IServiceCollection>? more = null) =>
        new((services, releaseKit) =>
        {
            releaseKit.AddGates(gates);
            more?.Invoke(services);
        }, manifest);

    public void Dispose()
    {
        _host?.Dispose();
        _host = null;
        Directory.Dispose();
    }
}

internal sealed record CommandRun(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
