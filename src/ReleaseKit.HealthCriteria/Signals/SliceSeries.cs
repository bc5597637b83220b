namespace ReleaseKit.HealthCriteria.Internal;

/// <summary>One slice of a signal's time series: a sketch (allocated when the first value arrives), a counter total and the last sample.</summary>
internal sealed class Slice(long start, long width, SignalKind kind, Func<QuantileSketch> newSketch)
{
    private QuantileSketch? _sketch;
    private long _total;
    private long _lastBits = BitConverter.DoubleToInt64Bits(double.NaN);

    /// <summary>Start, in ticks since the series' origin.</summary>
    public long Start { get; } = start;

    public long Width { get; } = width;

    public long End => Start + Width;

    public SignalKind Kind { get; } = kind;

    public QuantileSketch? Sketch => Volatile.Read(ref _sketch);

    public long Total => Volatile.Read(ref _total);

    public double Last => BitConverter.Int64BitsToDouble(Volatile.Read(ref _lastBits));

    public void Record(double value)
    {
        var sketch = Volatile.Read(ref _sketch) ?? EnsureSketch();
        sketch.Add(value);
        if (Kind == SignalKind.Gauge && double.IsFinite(value) && value >= 0)
        {
            Volatile.Write(ref _lastBits, BitConverter.DoubleToInt64Bits(value));
        }
    }

    public void Add(long delta) => Interlocked.Add(ref _total, delta);

    public void MergeFrom(Slice other)
    {
        if (other.Sketch is { } sketch)
        {
            (Volatile.Read(ref _sketch) ?? EnsureSketch()).MergeFrom(sketch);
        }

        Interlocked.Add(ref _total, other.Total);
        if (!double.IsNaN(other.Last))
        {
            Volatile.Write(ref _lastBits, BitConverter.DoubleToInt64Bits(other.Last));
        }
    }

    private QuantileSketch EnsureSketch()
    {
        Interlocked.CompareExchange(ref _sketch, newSketch(), null);
        return _sketch!;
    }
}

/// <summary>
/// A signal's time series for one tenant tier: fine slices aligned to the deploy time, compacted into coarse
/// slices once they are older than the fine retention, dropped once older than the retention.
/// </summary>
internal sealed class SliceSeries(DateTimeOffset origin, SliceLayout layout, SignalKind kind, Func<QuantileSketch> newSketch)
{
    private readonly Lock _gate = new();
    private readonly List<Slice> _fine = [];
    private readonly SortedDictionary<long, Slice> _coarse = [];
    private Slice? _current;
    private long _clockJumps;

    public long ClockJumps => Volatile.Read(ref _clockJumps);

    public Slice SliceFor(DateTimeOffset now)
    {
        var ticks = (now - origin).Ticks;
        var current = Volatile.Read(ref _current);
        if (current is not null && ticks >= current.Start && ticks < current.End)
        {
            return current;
        }

        return SliceForSlow(ticks, current);
    }

    public void Collect(long startTicks, long endTicks, List<Slice> into)
    {
        lock (_gate)
        {
            foreach (var slice in _coarse.Values)
            {
                if (slice.Start >= startTicks && slice.Start < endTicks)
                {
                    into.Add(slice);
                }
            }

            foreach (var slice in _fine)
            {
                if (slice.Start >= startTicks && slice.Start < endTicks)
                {
                    into.Add(slice);
                }
            }
        }
    }

    private Slice SliceForSlow(long ticks, Slice? current)
    {
        lock (_gate)
        {
            var start = FloorDiv(ticks, layout.FineTicks) * layout.FineTicks;
            if (current is not null && ticks < current.Start)
            {
                // The clock went back (or a late measurement): count it, then record into the slice it belongs to.
                Interlocked.Increment(ref _clockJumps);
            }

            foreach (var slice in _fine)
            {
                if (slice.Start == start)
                {
                    return slice;
                }
            }

            if (current is not null && start + layout.FineTicks <= current.Start - layout.FineRetentionTicks)
            {
                // Older than the fine retention: it belongs to an already compacted coarse slice.
                return CoarseFor(start);
            }

            var created = new Slice(start, layout.FineTicks, kind, newSketch);
            _fine.Add(created);
            _fine.Sort(static (a, b) => a.Start.CompareTo(b.Start));
            if (current is null || start > current.Start)
            {
                Volatile.Write(ref _current, created);
                Compact(start);
            }

            return created;
        }
    }

    private void Compact(long nowStart)
    {
        var fineLimit = nowStart - layout.FineRetentionTicks;
        var dropLimit = nowStart - layout.RetentionTicks;
        for (var i = _fine.Count - 1; i >= 0; i--)
        {
            var slice = _fine[i];
            if (slice.End > fineLimit)
            {
                continue;
            }

            _fine.RemoveAt(i);
            CoarseFor(slice.Start).MergeFrom(slice);
        }

        foreach (var key in _coarse.Keys.Where(k => k + layout.CoarseTicks <= dropLimit).ToList())
        {
            _coarse.Remove(key);
        }
    }

    private Slice CoarseFor(long ticks)
    {
        var coarseStart = FloorDiv(ticks, layout.CoarseTicks) * layout.CoarseTicks;
        if (!_coarse.TryGetValue(coarseStart, out var coarse))
        {
            coarse = new Slice(coarseStart, layout.CoarseTicks, kind, newSketch);
            _coarse.Add(coarseStart, coarse);
        }

        return coarse;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// <summary>Slice widths and retention, in ticks.</summary>
internal sealed record SliceLayout(long FineTicks, long CoarseTicks, long FineRetentionTicks, long RetentionTicks);
