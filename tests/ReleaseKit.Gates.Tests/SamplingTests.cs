using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class SamplingTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    // Drives the fake clock forward while the run waits between rounds.
    private static async Task<GateReport> SampleAsync(FakeTimeProvider time, Action<IReleaseGatesBuilder> configure, GateSamplingOptions sampling)
    {
        var run = RunnerTests.RunAsync(configure, new GateRunRequest { Manifest = RunnerTests.Manifest, EnvironmentName = "production", Sampling = sampling }, time);
        var guard = 0;
        while (!run.IsCompleted)
        {
            await Task.Delay(2, TestContext.Current.CancellationToken);
            time.Advance(TimeSpan.FromMinutes(1));
            Assert.True(++guard < 100_000, "the sampled run never finished");
        }

        return await run;
    }

    [Fact]
    public async Task Sampling_ends_when_all_blocking_gates_have_passed_for_the_steady_duration()
    {
        var time = new FakeTimeProvider(Start);
        // Fails for the first 7 minutes after the start, then passes.
        GateResult Erp(GateContext c) => c.TimeProvider.GetUtcNow() < Start.AddMinutes(7) ? GateResult.Fail("ERP sync backlog 412") : GateResult.Pass("backlog 0");

        var report = await SampleAsync(
            time,
            g => g.AddGate("erp-backlog", Erp, r => r.Timeout = TimeSpan.FromHours(1))
                  .AddGate("advisory", _ => GateResult.Fail("noise"), r => { r.Severity = GateSeverity.Advisory; r.Timeout = TimeSpan.FromHours(1); }),
            new GateSamplingOptions { Interval = TimeSpan.FromMinutes(5), MinimumSteadyDuration = TimeSpan.FromMinutes(10), Timeout = TimeSpan.FromHours(1) });

        Assert.True(report.Sampled);
        // rounds at about 0, 5 (fail), 10, 15, 20 (pass, steady 10 minutes)
        Assert.Equal([Verdict.Fail, Verdict.Fail, Verdict.Warn, Verdict.Warn, Verdict.Warn], report.Rounds.Select(r => r.Verdict));
        Assert.Equal(Verdict.Warn, report.Verdict);
        Assert.Equal(0, report.ExitCode);
        Assert.Contains("stayed passing", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relapse_restarts_the_steady_period()
    {
        var time = new FakeTimeProvider(Start);
        var round = 0;
        // pass, pass, FAIL, pass, pass, pass
        GateResult Flapping(GateContext _) => ++round == 3 ? GateResult.Fail("relapse") : GateResult.Pass();

        var report = await SampleAsync(
            time,
            g => g.AddGate("flapping", Flapping, r => r.Timeout = TimeSpan.FromHours(1)),
            new GateSamplingOptions { Interval = TimeSpan.FromMinutes(5), MinimumSteadyDuration = TimeSpan.FromMinutes(10), Timeout = TimeSpan.FromHours(1) });

        Assert.Equal(6, report.Rounds.Count);
        Assert.Equal(Verdict.Fail, report.Rounds[2].Verdict);
        Assert.Equal(Verdict.Pass, report.Verdict);
    }

    [Fact]
    public async Task Sampling_that_times_out_with_a_failing_gate_fails_and_shows_every_round()
    {
        var time = new FakeTimeProvider(Start);

        var report = await SampleAsync(
            time,
            g => g.AddGate("always-red", _ => GateResult.Fail("red"), r => r.Timeout = TimeSpan.FromHours(1)),
            new GateSamplingOptions { Interval = TimeSpan.FromMinutes(10), Timeout = TimeSpan.FromMinutes(30) });

        Assert.Equal(4, report.Rounds.Count); // 0, 10, 20, 30
        Assert.Equal(Verdict.Fail, report.Verdict);
        Assert.Contains("timed out", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sampling_that_times_out_before_the_steady_duration_is_inconclusive_not_pass()
    {
        var time = new FakeTimeProvider(Start);

        GateResult LateGreen(GateContext c) => c.TimeProvider.GetUtcNow() < Start.AddMinutes(15) ? GateResult.Fail("red") : GateResult.Pass();

        var report = await SampleAsync(
            time,
            g => g.AddGate("late-green", LateGreen, r => r.Timeout = TimeSpan.FromHours(1)),
            new GateSamplingOptions { Interval = TimeSpan.FromMinutes(10), MinimumSteadyDuration = TimeSpan.FromMinutes(20), Timeout = TimeSpan.FromMinutes(30) });

        // rounds at 0 and 10 fail, 20 and 30 pass: steady for 10 of the required 20 minutes when time is up
        Assert.Equal([Verdict.Fail, Verdict.Fail, Verdict.Pass, Verdict.Pass], report.Rounds.Select(r => r.Verdict));
        Assert.Equal(Verdict.Inconclusive, report.Verdict);
        Assert.Equal(1, report.ExitCode);
        Assert.Contains("short of the required", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_sampling_settings_are_rejected()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => RunnerTests.RunAsync(
            g => g.AddGate("x", _ => GateResult.Pass()),
            new GateRunRequest { Manifest = RunnerTests.Manifest, EnvironmentName = "production", Sampling = new GateSamplingOptions { Interval = TimeSpan.Zero } }));

        Assert.Contains("Interval", ex.Message, StringComparison.Ordinal);
    }
}
