using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

/// <summary>The package README's example, as written there, in a real ASP.NET Core application.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task The_readme_example_runs_releasekit_check_inside_a_web_application()
    {
        using var directory = new TempDirectory();
        directory.Write("release.json", TestApp.ValidManifest);
        var args = new[] { "releasekit", "check", "--format", "markdown", "--out", directory.File("reports") };
        var before = Environment.ExitCode;
        try
        {
            // --- README example ---
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = directory.Path, EnvironmentName = "staging" });
            builder.Services.AddReleaseKit()
                .AddHosting(o => o.ManifestPath = "release.json")
                .AddDeploymentMarker()
                .AddGates(g => g.AddManifestCompletenessGate().AddGate("erp-reachable", _ => GateResult.Pass()));
            builder.Services.AddHealthChecks().AddReleaseKitReadiness();
            await using var app = builder.Build();
#pragma warning disable xUnit1051 // as in the README
            var handled = await app.RunReleaseKitCommandAsync(args);
#pragma warning restore xUnit1051
            // ----------------------

            Assert.True(handled);
            Assert.Equal(ReleaseKitExitCodes.Pass, Environment.ExitCode);
            Assert.Contains("erp-reachable", File.ReadAllText(directory.File("reports/releasekit-check.md")));
            var health = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);
            Assert.Equal(HealthStatus.Unhealthy, health.Status); // no startup-stage gate in the example: readiness fails closed
        }
        finally
        {
            Environment.ExitCode = before;
        }
    }
}
