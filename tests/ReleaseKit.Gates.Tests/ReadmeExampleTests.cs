using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

#pragma warning disable xUnit1051 // the example is kept verbatim, as a user would write it

namespace ReleaseKit.Gates.Tests;

/// <summary>
/// The example at the top of src/ReleaseKit.Gates/README.md (and the root README's quick start), kept here so it
/// compiles and runs: only the manifest path and the ERP stand-in differ.
/// </summary>
public sealed class ReadmeExampleTests
{
    private static class Erp
    {
        public static Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(!cancellationToken.IsCancellationRequested);
    }

    [Fact]
    public async Task The_readme_example_compiles_and_passes_for_a_complete_manifest()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("release.json", ManifestReaderTests.Valid);

        // --- from README.md ---
        var services = new ServiceCollection();
        services.AddReleaseKit().AddGates()
            .AddManifestCompletenessGate()
            .AddApprovalsGate(p => p.Require(ChangeClasses.BillingLogic, 2).Group("release-managers", "bob", "carol"))
            .AddGate("erp-reachable", async (ctx, ct) => await Erp.PingAsync(ct) ? GateResult.Pass() : GateResult.Fail("ERP unreachable"),
                     r => { r.IsTransient = true; r.Timeout = TimeSpan.FromSeconds(10); });
        using var provider = services.BuildServiceProvider();
        var manifest = await ReleaseManifestReader.ReadFileAsync(path);
        var report = await provider.GetRequiredService<IReleaseGateRunner>().RunAsync(new() { Manifest = manifest, EnvironmentName = "production" });
        GateReportWriter.Write(report, GateReportFormat.Text, Console.Out);
        // --- end ---

        Assert.Equal(0, report.ExitCode);
        Assert.Equal(["manifest-completeness", "approvals", "erp-reachable"], report.Entries.Select(e => e.Name));
    }
}
