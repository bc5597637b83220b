using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class RunnerTests
{
    internal static readonly ReleaseManifest Manifest = new() { ReleaseId = "r1", Version = "1.0.0" };

    internal static async Task<GateReport> RunAsync(Action<IReleaseGatesBuilder> configure, GateRunRequest? request = null, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        if (time is not null)
        {
            collection.AddSingleton(time);
        }

        services?.Invoke(collection);
        configure(collection.AddReleaseKit().AddGates());
        await using var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        var runner = provider.GetRequiredService<IReleaseGateRunner>();
        return await runner.RunAsync(request ?? new GateRunRequest { Manifest = Manifest, EnvironmentName = "production" }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Gates_are_evaluated_in_parallel()
    {
        // Each gate waits until both have started: run one after the other, they would time out.
        using var bothStarted = new CountdownEvent(2);
        GateResult Rendezvous(GateContext _)
        {
            bothStarted.Signal();
            return bothStarted.Wait(TimeSpan.FromSeconds(20)) ? GateResult.Pass() : GateResult.Fail("the other gate never started");
        }

        var report = await RunAsync(g => g.AddGate("a", Rendezvous).AddGate("b", Rendezvous));

        Assert.All(report.Entries, e => Assert.Equal(Verdict.Pass, e.Verdict));
        Assert.Equal(Verdict.Pass, report.Verdict);
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public async Task A_gate_that_throws_fails_with_the_exception_type_and_message()
    {
        var report = await RunAsync(g => g
            .AddGate("ok", _ => GateResult.Pass())
            .AddGate("boom", GateResult (GateContext _) => throw new InvalidOperationException("ERP endpoint refused the connection")));

        var boom = report.Entries.Single(e => e.Name == "boom");
        Assert.Equal(Verdict.Fail, boom.Verdict);
        Assert.Equal("System.InvalidOperationException", boom.Result.Error!.Type);
        Assert.Contains("ERP endpoint refused the connection", boom.Result.Reason, StringComparison.Ordinal);
        Assert.Equal(Verdict.Fail, report.Verdict);
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task A_gate_that_ignores_cancellation_and_hangs_times_out_as_fail()
    {
        var never = new TaskCompletionSource<GateResult>();
        var report = await RunAsync(g => g.AddGate("hang", (_, _) => new ValueTask<GateResult>(never.Task), r => r.Timeout = TimeSpan.FromMilliseconds(50)));

        var entry = Assert.Single(report.Entries);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Equal("System.TimeoutException", entry.Result.Error!.Type);
        Assert.Equal(Verdict.Fail, report.Verdict);
    }

    [Fact]
    public async Task A_gate_that_blocks_its_thread_cannot_stall_the_run()
    {
        using var release = new ManualResetEventSlim();
        try
        {
            var report = await RunAsync(g => g
                .AddGate("blocks", _ => { release.Wait(TimeSpan.FromMinutes(1)); return GateResult.Pass(); }, r => r.Timeout = TimeSpan.FromMilliseconds(50))
                .AddGate("quick", _ => GateResult.Pass()));

            Assert.Equal(Verdict.Fail, report.Entries.Single(e => e.Name == "blocks").Verdict);
            Assert.Equal(Verdict.Pass, report.Entries.Single(e => e.Name == "quick").Verdict);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task A_timeout_can_be_configured_to_be_inconclusive_but_never_pass()
    {
        var report = await RunAsync(g => g.AddGate(
            "slow",
            async (_, ct) => { await Task.Delay(Timeout.Infinite, ct); return GateResult.Pass(); },
            r => { r.Timeout = TimeSpan.FromMilliseconds(50); r.TimeoutVerdict = Verdict.Inconclusive; }));

        Assert.Equal(Verdict.Inconclusive, Assert.Single(report.Entries).Verdict);
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task A_gate_that_cannot_be_created_fails()
    {
        var report = await RunAsync(g => g.AddGate<GateNeedingAService>("needs-service"));

        var entry = Assert.Single(report.Entries);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains("IUnregistered", entry.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gate_returning_null_fails()
    {
        var report = await RunAsync(g => g.AddGate("null", (_, _) => ValueTask.FromResult<GateResult>(null!)));

        Assert.Equal(Verdict.Fail, Assert.Single(report.Entries).Verdict);
    }

    [Fact]
    public async Task An_advisory_failure_is_reported_as_warn_and_does_not_block()
    {
        var report = await RunAsync(g => g
            .AddGate("advisory", _ => GateResult.Fail("p95 latency is up 8%"), r => r.Severity = GateSeverity.Advisory)
            .AddGate("blocking", _ => GateResult.Pass()));

        var advisory = report.Entries.Single(e => e.Name == "advisory");
        Assert.Equal(Verdict.Fail, advisory.Result.Verdict);
        Assert.Equal(Verdict.Warn, advisory.Verdict);
        Assert.Equal(Verdict.Warn, report.Verdict);
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public async Task A_dry_run_gate_is_reported_but_never_blocks()
    {
        var report = await RunAsync(g => g
            .AddGate("new-rule", _ => GateResult.Fail("would block"), r => r.DryRun = true)
            .AddGate("ok", _ => GateResult.Pass()));

        var dry = report.Entries.Single(e => e.Name == "new-rule");
        Assert.Equal(Verdict.Fail, dry.Verdict);
        Assert.False(dry.CountsTowardVerdict);
        Assert.Equal(Verdict.Pass, report.Verdict);
    }

    [Fact]
    public async Task A_transient_gate_is_retried_until_it_answers()
    {
        var calls = 0;
        var report = await RunAsync(g => g.AddGate(
            "flaky",
            _ => Interlocked.Increment(ref calls) < 3 ? throw new HttpRequestException("503") : GateResult.Pass("answered"),
            r => { r.IsTransient = true; r.RetryAttempts = 3; r.RetryDelay = TimeSpan.Zero; }));

        var entry = Assert.Single(report.Entries);
        Assert.Equal(Verdict.Pass, entry.Verdict);
        Assert.Equal(3, entry.Attempts);
    }

    [Fact]
    public async Task A_transient_gate_that_keeps_failing_is_fail_after_its_retries()
    {
        var calls = 0;
        var report = await RunAsync(g => g.AddGate(
            "down",
            GateResult (GateContext _) => { Interlocked.Increment(ref calls); throw new HttpRequestException("503"); },
            r => { r.IsTransient = true; r.RetryAttempts = 2; r.RetryDelay = TimeSpan.Zero; }));

        var entry = Assert.Single(report.Entries);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Equal(3, calls);
        Assert.Equal(3, entry.Attempts);
    }

    [Fact]
    public async Task A_definite_failure_is_never_retried()
    {
        var calls = 0;
        var report = await RunAsync(g => g.AddGate(
            "definite",
            _ => { Interlocked.Increment(ref calls); return GateResult.Fail("2 invoices unreconciled"); },
            r => { r.IsTransient = true; r.RetryDelay = TimeSpan.Zero; }));

        Assert.Equal(1, calls);
        Assert.Equal(1, Assert.Single(report.Entries).Attempts);
    }

    [Fact]
    public async Task Only_gates_of_the_requested_stages_and_tags_run()
    {
        var report = await RunAsync(
            g => g
                .AddGate("startup-schema", _ => GateResult.Pass(), r => r.InStages(GateStage.Startup).WithTags("schema"))
                .AddGate("startup-other", _ => GateResult.Pass(), r => r.InStages(GateStage.Startup))
                .AddGate("promotion-default", _ => GateResult.Pass())
                .AddGate("both", _ => GateResult.Pass(), r => r.InStages(GateStage.Startup, GateStage.PostDeploy).WithTags("schema")),
            new GateRunRequest { Manifest = Manifest, EnvironmentName = "production", Stages = [GateStage.Startup, GateStage.PostDeploy], Tags = ["schema"] });

        Assert.Equal(
            ["startup-schema@Startup", "both@Startup", "both@PostDeploy"],
            report.Entries.Select(e => $"{e.Name}@{e.Stage}"));
    }

    [Fact]
    public async Task A_run_in_which_no_gate_matched_is_inconclusive()
    {
        var report = await RunAsync(g => g.AddGate("promotion", _ => GateResult.Pass()), new GateRunRequest { Manifest = Manifest, EnvironmentName = "production", Stages = [GateStage.PostDeploy] });

        Assert.Empty(report.Entries);
        Assert.Equal(Verdict.Inconclusive, report.Verdict);
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task Asking_for_an_unknown_gate_is_an_error_listing_the_registered_ones()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => RunAsync(g => g.AddGate("approvals", _ => GateResult.Pass()), new GateRunRequest { Manifest = Manifest, EnvironmentName = "production", GateNames = ["aprovals"] }));

        Assert.Contains("'aprovals'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("registered: approvals", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_registrations_fail_at_startup_with_every_problem_named()
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddGates()
            .AddGate("same", _ => GateResult.Pass())
            .AddGate("SAME", _ => GateResult.Pass())
            .AddGate("bad name!", _ => GateResult.Pass())
            .AddGate("zero", _ => GateResult.Pass(), r => r.Timeout = TimeSpan.Zero)
            .AddGate("passes-on-timeout", _ => GateResult.Pass(), r => r.TimeoutVerdict = Verdict.Pass);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ReleaseGatesOptions>>().Value);

        Assert.Contains("Gate 'SAME': the name is registered more than once", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gate 'bad name!': the name must be", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gate 'zero': Timeout is 00:00:00", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gate 'passes-on-timeout': TimeoutVerdict is Pass", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Calling_AddGates_twice_registers_the_runner_once()
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddGates();
        services.AddReleaseKit().AddGates();

        Assert.Single(services, d => d.ServiceType == typeof(IReleaseGateRunner));
    }

    [Fact]
    public async Task Gates_see_the_manifest_environment_stage_and_clock_of_the_run()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 17, 0, 0, TimeSpan.Zero));
        GateContext? seen = null;
        await RunAsync(g => g.AddGate("spy", c => { seen = c; return GateResult.Pass(); }, r => r.InStages(GateStage.Startup)), new GateRunRequest { Manifest = Manifest, EnvironmentName = "staging", Stages = [GateStage.Startup] }, time);

        Assert.NotNull(seen);
        Assert.Same(Manifest, seen.Manifest);
        Assert.Equal("staging", seen.EnvironmentName);
        Assert.Equal(GateStage.Startup, seen.Stage);
        Assert.Equal("spy", seen.GateName);
        Assert.Equal(time.GetUtcNow(), seen.TimeProvider.GetUtcNow());
    }

    private interface IUnregistered;

    private sealed class GateNeedingAService(IUnregistered dependency) : IReleaseGate
    {
        public ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(dependency is null ? GateResult.Fail("no dependency") : GateResult.Pass());
    }
}
