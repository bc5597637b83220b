using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task A_run_emits_an_activity_per_run_and_per_gate_with_the_verdict()
    {
        var gate = "telemetry-" + Guid.NewGuid().ToString("N")[..8];
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "ReleaseKit.Gates",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var report = await RunnerTests.RunAsync(g => g.AddGate(gate, _ => GateResult.Fail("red")));

        var gateActivity = Assert.Single(stopped, a => a.OperationName == "releasekit.gate.evaluate" && (string?)a.GetTagItem(TelemetryTags.GateName) == gate);
        Assert.Equal("fail", gateActivity.GetTagItem(TelemetryTags.Verdict));
        Assert.Equal("promotion", gateActivity.GetTagItem(TelemetryTags.Stage));
        Assert.Equal(ActivityStatusCode.Error, gateActivity.Status);
        var run = Assert.Single(stopped, a => a.OperationName == "releasekit.gates.run" && a.SpanId == gateActivity.ParentSpanId);
        Assert.Equal(report.Verdict.ToWireName(), run.GetTagItem(TelemetryTags.Verdict));
        Assert.Equal("r1", run.GetTagItem(TelemetryTags.ReleaseId));
    }

    [Fact]
    public async Task Every_evaluation_is_counted_by_verdict_and_timed_in_seconds()
    {
        var gate = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        var counts = new ConcurrentQueue<(long Value, string? Verdict)>();
        var durations = new ConcurrentQueue<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "ReleaseKit.Gates")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "releasekit.gate.evaluations" && Tag(tags, TelemetryTags.GateName) == gate)
            {
                counts.Enqueue((value, Tag(tags, TelemetryTags.Verdict)));
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "releasekit.gate.duration" && Tag(tags, TelemetryTags.GateName) == gate)
            {
                Assert.Equal("s", instrument.Unit);
                durations.Enqueue(value);
            }
        });
        listener.Start();

        await RunnerTests.RunAsync(g => g.AddGate(gate, _ => GateResult.Warn("amber")));

        Assert.Equal([(1L, "warn")], counts);
        Assert.True(Assert.Single(durations) >= 0);
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
