using System.Collections.Concurrent;
using ReleaseKit.HealthCriteria.Internal;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// A signal being recorded for the current release, in time slices aligned to its deploy time, optionally split by
/// tenant tier. Get one from <see cref="ReleaseHealthMonitor.Signal(SignalDefinition)"/>. Thread-safe.
/// </summary>
public sealed class HealthSignal
{
    private const string NoTier = "";
    private readonly ConcurrentDictionary<string, SliceSeries> _tiers = new(StringComparer.Ordinal);
    private readonly SliceSeries _untiered;
    private readonly DateTimeOffset _origin;
    private readonly SliceLayout _layout;
    private readonly TimeProvider _timeProvider;
    private readonly Func<QuantileSketch> _newSketch;
    private long _rejectedDeltas;
    private long _counterResets;

    internal HealthSignal(SignalDefinition definition, DateTimeOffset origin, SliceLayout layout, TimeProvider timeProvider, Func<QuantileSketch> newSketch)
    {
        Definition = definition;
        _origin = origin;
        _layout = layout;
        _timeProvider = timeProvider;
        _newSketch = newSketch;
        _untiered = new SliceSeries(origin, layout, definition.Kind, newSketch);
        _tiers[NoTier] = _untiered;
    }

    /// <summary>Gets the signal's definition.</summary>
    public SignalDefinition Definition { get; }

    /// <summary>Gets the signal's name.</summary>
    public string Name => Definition.Name;

    /// <summary>Gets the number of counter increments rejected because they were negative or not finite.</summary>
    public long RejectedIncrements => Volatile.Read(ref _rejectedDeltas);

    /// <summary>Gets the number of times a cumulative counter observed through a meter went backwards (a reset).</summary>
    public long CounterResets => Volatile.Read(ref _counterResets);

    /// <summary>Gets the number of measurements that arrived for a time slice older than the newest one (the clock went back, or a late measurement).</summary>
    public long ClockJumps => _tiers.Values.Sum(s => s.ClockJumps);

    /// <summary>Gets the tenant tiers seen so far (the empty string is the untagged part).</summary>
    public IReadOnlyCollection<string> Tiers => [.. _tiers.Keys.Where(k => k.Length > 0)];

    /// <summary>Records a value of a distribution or a gauge sample. NaN, negative and infinite values are rejected and counted by the sketch.</summary>
    /// <param name="value">The value.</param>
    /// <param name="tier">The tenant tier, if known.</param>
    /// <exception cref="InvalidOperationException">The signal is a counter (use <see cref="Add(long, string?)"/>).</exception>
    public void Record(double value, string? tier = null)
    {
        if (Definition.Kind == SignalKind.Counter)
        {
            throw new InvalidOperationException($"Signal '{Name}' is a counter: call Add, not Record.");
        }

        Series(tier).SliceFor(_timeProvider.GetUtcNow()).Record(value);
    }

    /// <summary>Adds to a counter. A negative increment is rejected and counted in <see cref="RejectedIncrements"/>.</summary>
    /// <param name="delta">The increment, zero or more.</param>
    /// <param name="tier">The tenant tier, if known.</param>
    /// <exception cref="InvalidOperationException">The signal is not a counter (use <see cref="Record(double, string?)"/>).</exception>
    public void Add(long delta = 1, string? tier = null)
    {
        if (Definition.Kind != SignalKind.Counter)
        {
            throw new InvalidOperationException($"Signal '{Name}' is a {Definition.Kind}: call Record, not Add.");
        }

        if (delta < 0)
        {
            Interlocked.Increment(ref _rejectedDeltas);
            return;
        }

        Series(tier).SliceFor(_timeProvider.GetUtcNow()).Add(delta);
    }

    /// <summary>Returns what the signal recorded in <c>[start, end)</c> (to the slice: slices starting inside the span count).</summary>
    /// <param name="start">The first instant.</param>
    /// <param name="end">The first instant after the span.</param>
    /// <param name="tier">A tenant tier, or <see langword="null"/> for every tier together.</param>
    /// <returns>The aggregate.</returns>
    public SignalAggregate Aggregate(DateTimeOffset start, DateTimeOffset end, string? tier = null)
    {
        var slices = new List<Slice>();
        var startTicks = (start - _origin).Ticks;
        var endTicks = (end - _origin).Ticks;
        if (tier is null)
        {
            foreach (var series in _tiers.Values)
            {
                series.Collect(startTicks, endTicks, slices);
            }
        }
        else if (_tiers.TryGetValue(tier, out var series))
        {
            series.Collect(startTicks, endTicks, slices);
        }

        return Combine(slices);
    }

    /// <summary>What the signal recorded in each slice of <c>[start, end)</c>, in time order (every tier together when <paramref name="tier"/> is null).</summary>
    internal List<(DateTimeOffset Start, TimeSpan Width, SignalAggregate Aggregate)> SliceAggregates(DateTimeOffset start, DateTimeOffset end, string? tier)
    {
        var slices = new List<Slice>();
        var startTicks = (start - _origin).Ticks;
        var endTicks = (end - _origin).Ticks;
        if (tier is null)
        {
            foreach (var series in _tiers.Values)
            {
                series.Collect(startTicks, endTicks, slices);
            }
        }
        else if (_tiers.TryGetValue(tier, out var series))
        {
            series.Collect(startTicks, endTicks, slices);
        }

        return [.. slices.GroupBy(s => s.Start).OrderBy(g => g.Key).Select(g => (_origin.AddTicks(g.Key), TimeSpan.FromTicks(g.Max(s => s.Width)), Combine([.. g])))];
    }

    internal void AddRejectedIncrement() => Interlocked.Increment(ref _rejectedDeltas);

    internal void AddCounterReset() => Interlocked.Increment(ref _counterResets);

    private SignalAggregate Combine(List<Slice> slices)
    {
        long total = 0;
        QuantileSketch? sketch = Definition.Kind == SignalKind.Counter ? null : _newSketch();
        double? last = null;
        long lastStart = long.MinValue;
        foreach (var slice in slices)
        {
            total += slice.Total;
            if (slice.Sketch is { } s)
            {
                sketch!.MergeFrom(s);
            }

            if (!double.IsNaN(slice.Last) && slice.Start >= lastStart)
            {
                last = slice.Last;
                lastStart = slice.Start;
            }
        }

        return new SignalAggregate(Definition.Kind, sketch, sketch?.Count ?? total, last);
    }

    private SliceSeries Series(string? tier) =>
        string.IsNullOrEmpty(tier) ? _untiered : _tiers.GetOrAdd(tier, static (_, self) => new SliceSeries(self._origin, self._layout, self.Definition.Kind, self._newSketch), this);
}
