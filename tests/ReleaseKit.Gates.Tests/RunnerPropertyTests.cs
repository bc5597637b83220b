using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class RunnerPropertyTests
{
    public enum Behaviour
    {
        Returns,
        Throws,
        Hangs,
    }

    [Property(MaxTest = 60)]
    public async Task<bool> The_reports_verdict_is_the_worst_of_its_counted_gates_after_the_advisory_mapping((Verdict Verdict, bool Advisory, bool DryRun)[] gates)
    {
        var report = await RunnerTests.RunAsync(g =>
        {
            for (var i = 0; i < gates.Length; i++)
            {
                var (verdict, advisory, dryRun) = gates[i];
                g.AddGate($"g{i}", _ => GateResult.Create(verdict, "generated"), r => { r.Severity = advisory ? GateSeverity.Advisory : GateSeverity.Blocking; r.DryRun = dryRun; });
            }
        });

        var expected = gates
            .Where(g => !g.DryRun)
            .Select(g => g.Advisory && g.Verdict > Verdict.Warn ? Verdict.Warn : g.Verdict)
            .Worst();
        return report.Verdict == expected && report.Entries.Count == gates.Length && report.ExitCode == (expected.IsPassing() ? 0 : 1);
    }

    [Property(MaxTest = 40)]
    public async Task<bool> No_run_with_a_throwing_or_hanging_blocking_gate_is_pass((Verdict Verdict, Behaviour Behaviour, bool Advisory)[] others, bool hangs)
    {
        var never = new TaskCompletionSource<GateResult>();
        var report = await RunnerTests.RunAsync(g =>
        {
            g.AddGate(
                "broken",
                (_, _) => hangs ? new ValueTask<GateResult>(never.Task) : throw new InvalidOperationException("broken"),
                r => r.Timeout = TimeSpan.FromMilliseconds(20));
            for (var i = 0; i < others.Length; i++)
            {
                var (verdict, behaviour, advisory) = others[i];
                g.AddGate(
                    $"g{i}",
                    (_, _) => behaviour switch
                    {
                        Behaviour.Throws => throw new InvalidOperationException("generated"),
                        Behaviour.Hangs => new ValueTask<GateResult>(never.Task),
                        _ => ValueTask.FromResult(GateResult.Create(verdict, "generated")),
                    },
                    r => { r.Timeout = TimeSpan.FromMilliseconds(20); r.Severity = advisory ? GateSeverity.Advisory : GateSeverity.Blocking; });
            }
        });

        return !report.Verdict.IsPassing() && report.Entries.Single(e => e.Name == "broken").Verdict == Verdict.Fail;
    }
}
