using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Hosting.Tests;

public sealed class ReadinessTests
{
    private static TestApp App(Action<IReleaseGatesBuilder> gates, string? manifest = TestApp.ValidManifest) =>
        TestApp.WithGates(gates, manifest, s => s.AddHealthChecks().AddReleaseKitReadiness());

    private static Task<HealthReport> ProbeAsync(TestApp app) =>
        app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Readiness_is_healthy_when_the_startup_gates_pass_and_runs_only_startup_gates()
    {
        using var app = App(g => g
            .AddGate("schema-compatibility", _ => GateResult.Pass("inside the window"), r => r.InStages(GateStage.Startup))
            .AddGate("promotion-only", _ => GateResult.Fail("not a startup gate")));

        var report = await ProbeAsync(app);

        var entry = Assert.Single(report.Entries);
        Assert.Equal("releasekit-startup-gates", entry.Key);
        Assert.Equal(HealthStatus.Healthy, entry.Value.Status);
        Assert.Equal("pass", entry.Value.Data["gate:schema-compatibility"]);
        Assert.False(entry.Value.Data.ContainsKey("gate:promotion-only"));
    }

    [Theory]
    [InlineData(Verdict.Warn, HealthStatus.Degraded)]
    [InlineData(Verdict.Inconclusive, HealthStatus.Unhealthy)]
    [InlineData(Verdict.Fail, HealthStatus.Unhealthy)]
    public async Task Readiness_maps_the_startup_verdict_and_never_reports_ready_when_undecided(Verdict verdict, HealthStatus expected)
    {
        using var app = App(g => g.AddGate("schema-compatibility", _ => GateResult.Create(verdict, "migration 4 is unknown to this build"), r => r.InStages(GateStage.Startup)));

        var report = await ProbeAsync(app);

        Assert.Equal(expected, report.Status);
        Assert.Contains("schema-compatibility", report.Entries["releasekit-startup-gates"].Description);
    }

    [Fact]
    public async Task Readiness_is_unhealthy_without_startup_gates_or_without_a_readable_manifest()
    {
        using var noStartupGates = App(g => g.AddGate("promotion-only", _ => GateResult.Pass()));
        using var noManifest = App(g => g.AddGate("s", _ => GateResult.Pass(), r => r.InStages(GateStage.Startup)), manifest: null);

        var a = await ProbeAsync(noStartupGates);
        var b = await ProbeAsync(noManifest);

        Assert.Equal(HealthStatus.Unhealthy, a.Status);
        Assert.Contains("No startup-stage gate", a.Entries["releasekit-startup-gates"].Description);
        Assert.Equal(HealthStatus.Unhealthy, b.Status);
        Assert.Contains("does not exist", b.Entries["releasekit-startup-gates"].Description);
    }

    [Fact]
    public void Adding_readiness_twice_registers_one_check()
    {
        using var app = TestApp.WithGates(_ => { }, more: s => s.AddHealthChecks().AddReleaseKitReadiness().AddReleaseKitReadiness());

        var options = app.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value;

        Assert.Single(options.Registrations, r => r.Name == "releasekit-startup-gates");
    }
}
