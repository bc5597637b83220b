using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using ReleaseKit.HealthCriteria;

namespace ReleaseKit.Benchmarks;

/// <summary>
/// ReleaseKit.HealthCriteria's quantile sketch beside its anchors, per category:
/// <list type="bullet">
/// <item><b>record</b> (per value, 1,024 lognormal latencies per invocation): the sketch's <c>Add</c>, the same through a
/// <see cref="HealthSignal"/> (time slice lookup included), the OpenTelemetry SDK's histogram aggregation fed through its
/// <c>MeterProvider</c> (default explicit buckets and base-2 exponential), and the anchor <c>List&lt;double&gt;</c> + sort.</item>
/// <item><b>query</b>: p99 of 100,000 values: the sketch vs the anchor, sorting a copy of the list.</item>
/// <item><b>merge</b>: two windows of 100,000 values: <c>QuantileSketch.Merge</c> vs the anchor, concatenating and sorting the lists.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HealthCriteriaBenchmarks
{
    private const int Batch = 1024;
    private const string MeterName = "ReleaseKit.Benchmarks.Otel";
    private readonly List<double> _list = new(Batch);
    private double[] _values = null!;
    private double[] _large = null!;
    private List<double> _largeList = null!;
    private List<double> _otherList = null!;
    private QuantileSketch _sketch = null!;
    private QuantileSketch _full = null!;
    private QuantileSketch _other = null!;
    private ReleaseHealthMonitor _monitor = null!;
    private HealthSignal _signal = null!;
    private Meter _meter = null!;
    private MeterProvider _provider = null!;
    private Histogram<double> _otelExplicit = null!;
    private Histogram<double> _otelExponential = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        double Next() => Math.Exp(Math.Log(0.05) + (1.5 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())));
        _values = [.. Enumerable.Range(0, Batch).Select(_ => Next())];
        _large = [.. Enumerable.Range(0, 100_000).Select(_ => Next())];
        _largeList = [.. _large];
        _otherList = [.. Enumerable.Range(0, 100_000).Select(_ => Next())];
        _sketch = new QuantileSketch();
        _full = new QuantileSketch();
        _other = new QuantileSketch();
        foreach (var v in _large)
        {
            _full.Add(v);
        }

        foreach (var v in _otherList)
        {
            _other.Add(v);
        }

        _monitor = new ReleaseHealthMonitor(Options.Create(new ReleaseHealthOptions()), TimeProvider.System);
        _signal = _monitor.Signal(ServiceLevelIndicators.RequestDuration);

        _meter = new Meter(MeterName);
        _otelExplicit = _meter.CreateHistogram<double>("latency.explicit", "s");
        _otelExponential = _meter.CreateHistogram<double>("latency.exponential", "s");
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(MeterName)
            .AddView("latency.exponential", new Base2ExponentialBucketHistogramConfiguration())
            .AddReader(new PeriodicExportingMetricReader(new NullExporter(), exportIntervalMilliseconds: int.MaxValue))
            .Build();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        _meter.Dispose();
        _monitor.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch), BenchmarkCategory("record")]
    public double Record_ListAndSort()
    {
        _list.Clear();
        foreach (var v in _values)
        {
            _list.Add(v);
        }

        _list.Sort();
        return _list[^1];
    }

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("record")]
    public void Record_QuantileSketch()
    {
        var sketch = _sketch;
        foreach (var v in _values)
        {
            sketch.Add(v);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("record")]
    public void Record_HealthSignal()
    {
        var signal = _signal;
        foreach (var v in _values)
        {
            signal.Record(v);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("record")]
    public void Record_OpenTelemetryExplicitHistogram()
    {
        var histogram = _otelExplicit;
        foreach (var v in _values)
        {
            histogram.Record(v);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("record")]
    public void Record_OpenTelemetryExponentialHistogram()
    {
        var histogram = _otelExponential;
        foreach (var v in _values)
        {
            histogram.Record(v);
        }
    }

    [Benchmark(Baseline = true), BenchmarkCategory("query")]
    public double Query_p99_ListSort()
    {
        var copy = new List<double>(_largeList);
        copy.Sort();
        return copy[(int)(0.99 * (copy.Count - 1))];
    }

    [Benchmark, BenchmarkCategory("query")]
    public double Query_p99_QuantileSketch() => _full.GetQuantile(0.99);

    [Benchmark(Baseline = true), BenchmarkCategory("merge")]
    public double Merge_ListConcatSort()
    {
        var merged = new List<double>(_largeList.Count + _otherList.Count);
        merged.AddRange(_largeList);
        merged.AddRange(_otherList);
        merged.Sort();
        return merged[(int)(0.99 * (merged.Count - 1))];
    }

    [Benchmark, BenchmarkCategory("merge")]
    public double Merge_QuantileSketch() => QuantileSketch.Merge(_full, _other).GetQuantile(0.99);

    private sealed class NullExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
