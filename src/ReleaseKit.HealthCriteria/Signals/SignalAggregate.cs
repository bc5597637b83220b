namespace ReleaseKit.HealthCriteria;

/// <summary>What a signal recorded over a window: its sketch (distributions and gauges), its total (counters) and its last sample (gauges).</summary>
public sealed class SignalAggregate
{
    /// <summary>Creates an aggregate.</summary>
    /// <param name="kind">The signal's kind.</param>
    /// <param name="sketch">The distribution of values (distributions and gauges); <see langword="null"/> for counters.</param>
    /// <param name="total">The sum of counter increments (counters); the number of samples otherwise.</param>
    /// <param name="last">The last gauge sample, if any.</param>
    public SignalAggregate(SignalKind kind, QuantileSketch? sketch, long total, double? last = null)
    {
        if (kind != SignalKind.Counter && sketch is null)
        {
            throw new ArgumentNullException(nameof(sketch), $"A {kind} aggregate needs a sketch.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(total);
        Kind = kind;
        Sketch = sketch;
        Total = total;
        Last = last;
    }

    /// <summary>Gets the signal's kind.</summary>
    public SignalKind Kind { get; }

    /// <summary>Gets the distribution of values; <see langword="null"/> for counters.</summary>
    public QuantileSketch? Sketch { get; }

    /// <summary>Gets the counter total (counters) or the number of samples (distributions, gauges).</summary>
    public long Total { get; }

    /// <summary>Gets the last gauge sample, if any.</summary>
    public double? Last { get; }
}
