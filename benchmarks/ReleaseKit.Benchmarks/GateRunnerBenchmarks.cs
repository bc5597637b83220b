using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ReleaseKit.Gates;

namespace ReleaseKit.Benchmarks;

/// <summary>
/// Gate-run overhead beside the anchor, Microsoft.Extensions.Diagnostics.HealthChecks'
/// HealthCheckService.CheckHealthAsync, on N trivial checks that complete synchronously: what is
/// measured is the runner's own cost (scheduling, timeouts, results, report).
/// </summary>
[MemoryDiagnoser]
public class GateRunnerBenchmarks
{
    private static readonly ReleaseManifest Manifest = new() { ReleaseId = "bench", Version = "1.0.0" };

    private ServiceProvider _healthProvider = null!;
    private HealthCheckService _healthChecks = null!;
    private ServiceProvider _gateProvider = null!;
    private IReleaseGateRunner _runner = null!;
    private GateRunRequest _request = null!;

    [Params(1, 10, 100)]
    public int Checks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var health = new ServiceCollection();
        health.AddLogging();
        var checks = health.AddHealthChecks();
        for (var i = 0; i < Checks; i++)
        {
            checks.AddCheck($"check-{i}", () => HealthCheckResult.Healthy());
        }

        _healthProvider = health.BuildServiceProvider();
        _healthChecks = _healthProvider.GetRequiredService<HealthCheckService>();

        var gates = new ServiceCollection();
        gates.AddLogging();
        var builder = gates.AddReleaseKit().AddGates();
        var pass = GateResult.Pass();
        for (var i = 0; i < Checks; i++)
        {
            builder.AddGate($"gate-{i}", _ => pass);
        }

        _gateProvider = gates.BuildServiceProvider();
        _runner = _gateProvider.GetRequiredService<IReleaseGateRunner>();
        _request = new GateRunRequest { Manifest = Manifest, EnvironmentName = "production" };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _healthProvider.Dispose();
        _gateProvider.Dispose();
    }

    [Benchmark(Baseline = true, Description = "HealthCheckService.CheckHealthAsync")]
    public Task<HealthReport> HealthChecks() => _healthChecks.CheckHealthAsync();

    [Benchmark(Description = "IReleaseGateRunner.RunAsync")]
    public Task<GateReport> ReleaseGates() => _runner.RunAsync(_request);
}
