using System.Buffers.Binary;
using System.Globalization;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// A mergeable quantile sketch with a relative-error guarantee (DDSketch-style logarithmic buckets): every
/// quantile of the values recorded inside [<see cref="MinValue"/>, <see cref="MaxValue"/>] is returned within
/// <see cref="RelativeAccuracy"/> of the exact quantile. Recording is lock-free and allocation-free.
/// </summary>
/// <remarks>
/// <para>
/// Bucket <c>i</c> counts the values in <c>(γ^(i-1), γ^i]</c> with <c>γ = (1+α)/(1-α)</c>; a quantile is answered
/// with the bucket's representative <c>2γ^i/(γ+1)</c>, which is within <c>α</c> of every value in the bucket.
/// The bucket array covering the configured range is allocated once, by the constructor; <see cref="Add(double)"/>
/// is one logarithm and one <see cref="Interlocked.Increment(ref long)"/>.
/// </para>
/// <para>
/// Values outside the range are never dropped silently: zero is counted in <see cref="ZeroCount"/>, a positive value
/// below <see cref="MinValue"/> in <see cref="BelowMinCount"/> (ranked at the bottom, answered as <see cref="MinValue"/>),
/// a finite value above <see cref="MaxValue"/> in <see cref="AboveMaxCount"/> (ranked at the top, answered as
/// <see cref="MaxValue"/>). NaN, negative and infinite values are not part of the distribution: they are rejected and
/// counted in <see cref="RejectedNaNCount"/>, <see cref="RejectedNegativeCount"/> and <see cref="RejectedInfiniteCount"/>.
/// </para>
/// </remarks>
public sealed class QuantileSketch
{
    /// <summary>The default relative accuracy, 1%.</summary>
    public const double DefaultRelativeAccuracy = 0.01;

    /// <summary>The default smallest value with the accuracy guarantee (1 ns expressed in seconds).</summary>
    public const double DefaultMinValue = 1e-9;

    /// <summary>The default largest value with the accuracy guarantee.</summary>
    public const double DefaultMaxValue = 1e9;

    internal const byte FormatVersion = 1;
    private const int MaxBuckets = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "RKQS"u8;

    private readonly long[] _buckets;
    private readonly double _multiplier;
    private readonly double _gamma;
    private readonly int _minIndex;
    private long _zero;
    private long _belowMin;
    private long _aboveMax;
    private long _rejectedNaN;
    private long _rejectedNegative;
    private long _rejectedInfinite;

    /// <summary>Creates an empty sketch.</summary>
    /// <param name="relativeAccuracy">The relative accuracy α, in (0, 0.5]; 1% by default.</param>
    /// <param name="minValue">The smallest positive value with the accuracy guarantee.</param>
    /// <param name="maxValue">The largest value with the accuracy guarantee; the range may span at most about a million buckets.</param>
    /// <exception cref="ArgumentOutOfRangeException">α is not in (0, 0.5], the range is not positive and finite with min &lt; max, or it needs too many buckets.</exception>
    public QuantileSketch(double relativeAccuracy = DefaultRelativeAccuracy, double minValue = DefaultMinValue, double maxValue = DefaultMaxValue)
    {
        if (!(relativeAccuracy > 0 && relativeAccuracy <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(relativeAccuracy), relativeAccuracy, "The relative accuracy must be in (0, 0.5], for example 0.01 for 1%.");
        }

        if (!(minValue > 0 && double.IsFinite(minValue)))
        {
            throw new ArgumentOutOfRangeException(nameof(minValue), minValue, "The minimum value must be positive and finite, for example 1e-9.");
        }

        if (!(maxValue > minValue && double.IsFinite(maxValue)))
        {
            throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, $"The maximum value must be finite and greater than the minimum value {minValue.ToString(CultureInfo.InvariantCulture)}.");
        }

        _gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
        _multiplier = 1 / Math.Log(_gamma);
        _minIndex = RawIndex(minValue);
        var maxIndex = RawIndex(maxValue);
        var length = (long)maxIndex - _minIndex + 1;
        if (length > MaxBuckets)
        {
            throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, $"The range [{minValue.ToString(CultureInfo.InvariantCulture)}, {maxValue.ToString(CultureInfo.InvariantCulture)}] at relative accuracy {relativeAccuracy.ToString(CultureInfo.InvariantCulture)} needs {length} buckets; at most {MaxBuckets} are allowed. Narrow the range or raise the relative accuracy.");
        }

        RelativeAccuracy = relativeAccuracy;
        MinValue = minValue;
        MaxValue = maxValue;
        _buckets = new long[length];
    }

    /// <summary>Gets the relative accuracy α.</summary>
    public double RelativeAccuracy { get; }

    /// <summary>Gets the smallest positive value with the accuracy guarantee.</summary>
    public double MinValue { get; }

    /// <summary>Gets the largest value with the accuracy guarantee.</summary>
    public double MaxValue { get; }

    /// <summary>Gets the number of values in the distribution: zeros, values in range, below and above the range (not the rejected ones).</summary>
    public long Count
    {
        get
        {
            var count = Volatile.Read(ref _zero) + Volatile.Read(ref _belowMin) + Volatile.Read(ref _aboveMax);
            foreach (var bucket in _buckets)
            {
                count += bucket;
            }

            return count;
        }
    }

    /// <summary>Gets whether the distribution has no value.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Gets the number of zeros recorded.</summary>
    public long ZeroCount => Volatile.Read(ref _zero);

    /// <summary>Gets the number of positive values below <see cref="MinValue"/> (no accuracy guarantee for them).</summary>
    public long BelowMinCount => Volatile.Read(ref _belowMin);

    /// <summary>Gets the number of finite values above <see cref="MaxValue"/> (no accuracy guarantee for them).</summary>
    public long AboveMaxCount => Volatile.Read(ref _aboveMax);

    /// <summary>Gets the number of NaN values rejected.</summary>
    public long RejectedNaNCount => Volatile.Read(ref _rejectedNaN);

    /// <summary>Gets the number of negative values rejected.</summary>
    public long RejectedNegativeCount => Volatile.Read(ref _rejectedNegative);

    /// <summary>Gets the number of infinite values rejected.</summary>
    public long RejectedInfiniteCount => Volatile.Read(ref _rejectedInfinite);

    /// <summary>Gets the number of values rejected (NaN, negative or infinite).</summary>
    public long RejectedCount => RejectedNaNCount + RejectedNegativeCount + RejectedInfiniteCount;

    internal int BucketCount => _buckets.Length;

    /// <summary>Records a value. Lock-free, allocation-free, safe to call from many threads.</summary>
    /// <param name="value">The value (for example a duration in seconds).</param>
    public void Add(double value)
    {
        // NaN fails both comparisons, so only in-range values take the fast path.
        if (value >= MinValue && value <= MaxValue)
        {
            var i = (int)Math.Ceiling(Math.Log(value) * _multiplier) - _minIndex;
            if ((uint)i >= (uint)_buckets.Length)
            {
                // Rounding at the very edges of the range.
                i = i < 0 ? 0 : _buckets.Length - 1;
            }

            Interlocked.Increment(ref _buckets[i]);
            return;
        }

        AddOutOfRange(value);
    }

    /// <summary>Returns the quantile <paramref name="quantile"/> of the recorded values.</summary>
    /// <param name="quantile">The quantile in [0, 1], for example 0.99.</param>
    /// <returns>An estimate within <see cref="RelativeAccuracy"/> of the exact lower quantile (the value at sorted index ⌊q·(n−1)⌋) when that value is in range.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantile"/> is not in [0, 1].</exception>
    /// <exception cref="InvalidOperationException">The sketch is empty.</exception>
    public double GetQuantile(double quantile) =>
        TryGetQuantile(quantile, out var value) ? value : throw new InvalidOperationException("The sketch is empty: no quantile can be computed. Check Count (or the evaluation's minimum sample size) first.");

    /// <summary>Returns the quantile <paramref name="quantile"/> of the recorded values, or <see langword="false"/> when the sketch is empty.</summary>
    /// <param name="quantile">The quantile in [0, 1].</param>
    /// <param name="value">The estimate.</param>
    /// <returns><see langword="false"/> when the sketch is empty.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantile"/> is not in [0, 1].</exception>
    public bool TryGetQuantile(double quantile, out double value)
    {
        if (!(quantile >= 0 && quantile <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "The quantile must be in [0, 1], for example 0.99.");
        }

        value = double.NaN;
        var count = Count;
        if (count == 0)
        {
            return false;
        }

        var rank = quantile * (count - 1);
        foreach (var (representative, n) in Groups())
        {
            rank -= n;
            if (rank < 0)
            {
                value = representative;
                return true;
            }
        }

        value = MaxValue;
        return true;
    }

    /// <summary>Adds every value of <paramref name="other"/> to this sketch (safe while others record into either).</summary>
    /// <param name="other">A sketch with the same relative accuracy and range.</param>
    /// <exception cref="ArgumentException">The sketches differ in relative accuracy or range, so their buckets do not line up.</exception>
    public void MergeFrom(QuantileSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        EnsureCompatible(other, nameof(other));
        var source = other._buckets;
        for (var i = 0; i < source.Length; i++)
        {
            var n = Volatile.Read(ref source[i]);
            if (n != 0)
            {
                Interlocked.Add(ref _buckets[i], n);
            }
        }

        AddCounts(other.ZeroCount, other.BelowMinCount, other.AboveMaxCount, other.RejectedNaNCount, other.RejectedNegativeCount, other.RejectedInfiniteCount);
    }

    /// <summary>Returns a new sketch holding the values of all <paramref name="sketches"/>.</summary>
    /// <param name="sketches">At least one sketch; all with the same relative accuracy and range.</param>
    /// <returns>The merged sketch.</returns>
    /// <exception cref="ArgumentException">No sketch was given, or they differ in relative accuracy or range.</exception>
    public static QuantileSketch Merge(params IEnumerable<QuantileSketch> sketches)
    {
        ArgumentNullException.ThrowIfNull(sketches);
        QuantileSketch? result = null;
        foreach (var sketch in sketches)
        {
            ArgumentNullException.ThrowIfNull(sketch, nameof(sketches));
            result ??= sketch.CreateEmptyLike();
            result.MergeFrom(sketch);
        }

        return result ?? throw new ArgumentException("At least one sketch is needed to merge.", nameof(sketches));
    }

    /// <summary>Returns an empty sketch with this sketch's relative accuracy and range.</summary>
    /// <returns>The empty sketch.</returns>
    public QuantileSketch CreateEmptyLike() => new(RelativeAccuracy, MinValue, MaxValue);

    /// <summary>Returns a copy of this sketch.</summary>
    /// <returns>The copy.</returns>
    public QuantileSketch Clone()
    {
        var copy = CreateEmptyLike();
        copy.MergeFrom(this);
        return copy;
    }

    /// <summary>
    /// Serialises the sketch: the magic <c>RKQS</c>, a format version byte (1), α, the range, the out-of-range and
    /// rejected counts and the non-empty buckets (delta-encoded indices and counts as unsigned LEB128 varints).
    /// </summary>
    /// <returns>The bytes; <see cref="FromBytes(ReadOnlySpan{byte})"/> reads them back.</returns>
    public byte[] ToBytes()
    {
        var buffer = new List<byte>(64);
        buffer.AddRange(Magic);
        buffer.Add(FormatVersion);
        Span<byte> scratch = stackalloc byte[8];
        foreach (var d in (ReadOnlySpan<double>)[RelativeAccuracy, MinValue, MaxValue])
        {
            BinaryPrimitives.WriteDoubleLittleEndian(scratch, d);
            buffer.AddRange(scratch);
        }

        foreach (var n in (ReadOnlySpan<long>)[ZeroCount, BelowMinCount, AboveMaxCount, RejectedNaNCount, RejectedNegativeCount, RejectedInfiniteCount])
        {
            WriteVarint(buffer, (ulong)n);
        }

        var counts = new long[_buckets.Length];
        var nonEmpty = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _buckets[i]);
            if (counts[i] != 0)
            {
                nonEmpty++;
            }
        }

        WriteVarint(buffer, (ulong)nonEmpty);
        var previous = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] != 0)
            {
                WriteVarint(buffer, (ulong)(i - previous));
                WriteVarint(buffer, (ulong)counts[i]);
                previous = i;
            }
        }

        return [.. buffer];
    }

    /// <summary>Reads a sketch written by <see cref="ToBytes"/>.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a sketch of a known format version, are truncated or hold invalid values; the message says what and at which byte.</exception>
    public static QuantileSketch FromBytes(ReadOnlySpan<byte> data)
    {
        if (data.Length < Magic.Length + 1 || !data[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a ReleaseKit quantile sketch: the data does not start with the magic bytes 'RKQS'.");
        }

        var version = data[Magic.Length];
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unsupported quantile sketch format version {version} at byte {Magic.Length}; this library reads version {FormatVersion}.");
        }

        var position = Magic.Length + 1;
        var alpha = ReadDouble(data, ref position, "relative accuracy");
        var min = ReadDouble(data, ref position, "minimum value");
        var max = ReadDouble(data, ref position, "maximum value");
        QuantileSketch sketch;
        try
        {
            sketch = new QuantileSketch(alpha, min, max);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new InvalidDataException($"Invalid quantile sketch header (bytes {Magic.Length + 1}-{position - 1}): {ex.Message}", ex);
        }

        sketch._zero = ReadCount(data, ref position, "zero count");
        sketch._belowMin = ReadCount(data, ref position, "below-minimum count");
        sketch._aboveMax = ReadCount(data, ref position, "above-maximum count");
        sketch._rejectedNaN = ReadCount(data, ref position, "rejected NaN count");
        sketch._rejectedNegative = ReadCount(data, ref position, "rejected negative count");
        sketch._rejectedInfinite = ReadCount(data, ref position, "rejected infinite count");
        var nonEmpty = ReadCount(data, ref position, "bucket count");
        if (nonEmpty > sketch._buckets.Length)
        {
            throw new InvalidDataException($"The quantile sketch declares {nonEmpty} non-empty buckets but its range has only {sketch._buckets.Length}.");
        }

        long index = 0;
        for (var b = 0; b < nonEmpty; b++)
        {
            var start = position;
            var delta = ReadCount(data, ref position, "bucket index");
            index += delta;
            if ((b > 0 && delta == 0) || index >= sketch._buckets.Length)
            {
                throw new InvalidDataException($"Invalid bucket index {index} at byte {start}: indices must increase and stay below {sketch._buckets.Length}.");
            }

            start = position;
            var n = ReadCount(data, ref position, "bucket count");
            if (n == 0)
            {
                throw new InvalidDataException($"Bucket {index} at byte {start} has a count of zero; only non-empty buckets are written.");
            }

            sketch._buckets[index] = n;
        }

        if (position != data.Length)
        {
            throw new InvalidDataException($"The quantile sketch has {data.Length - position} unexpected trailing bytes after byte {position}.");
        }

        return sketch;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"QuantileSketch(α={RelativeAccuracy}, n={Count}, rejected={RejectedCount})");

    /// <summary>The distribution as ascending groups of equal representatives: zeros, below-min, buckets, above-max.</summary>
    internal IEnumerable<(double Value, long Count)> Groups()
    {
        if (ZeroCount > 0)
        {
            yield return (0, ZeroCount);
        }

        if (BelowMinCount > 0)
        {
            yield return (MinValue, BelowMinCount);
        }

        for (var i = 0; i < _buckets.Length; i++)
        {
            var n = Volatile.Read(ref _buckets[i]);
            if (n != 0)
            {
                yield return (Representative(i), n);
            }
        }

        if (AboveMaxCount > 0)
        {
            yield return (MaxValue, AboveMaxCount);
        }
    }

    internal long[] GetBucketCounts()
    {
        var copy = new long[_buckets.Length];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Volatile.Read(ref _buckets[i]);
        }

        return copy;
    }

    internal bool HasSameConfiguration(QuantileSketch other) =>
        RelativeAccuracy.Equals(other.RelativeAccuracy) && MinValue.Equals(other.MinValue) && MaxValue.Equals(other.MaxValue);

    internal void EnsureCompatible(QuantileSketch other, string parameterName)
    {
        if (!RelativeAccuracy.Equals(other.RelativeAccuracy))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Cannot merge a sketch with relative accuracy {other.RelativeAccuracy} into one with relative accuracy {RelativeAccuracy}: their buckets do not line up. Record both with the same relative accuracy."), parameterName);
        }

        if (!MinValue.Equals(other.MinValue) || !MaxValue.Equals(other.MaxValue))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Cannot merge a sketch with range [{other.MinValue}, {other.MaxValue}] into one with range [{MinValue}, {MaxValue}]. Record both with the same range."), parameterName);
        }
    }

    private double Representative(int bucket) => 2 * Math.Pow(_gamma, bucket + _minIndex) / (_gamma + 1);

    private int RawIndex(double value) => (int)Math.Ceiling(Math.Log(value) * _multiplier);

    private void AddOutOfRange(double value)
    {
        if (double.IsNaN(value))
        {
            Interlocked.Increment(ref _rejectedNaN);
        }
        else if (value == 0)
        {
            Interlocked.Increment(ref _zero);
        }
        else if (double.IsInfinity(value))
        {
            Interlocked.Increment(ref _rejectedInfinite);
        }
        else if (value < 0)
        {
            Interlocked.Increment(ref _rejectedNegative);
        }
        else if (value < MinValue)
        {
            Interlocked.Increment(ref _belowMin);
        }
        else
        {
            Interlocked.Increment(ref _aboveMax);
        }
    }

    private void AddCounts(long zero, long belowMin, long aboveMax, long nan, long negative, long infinite)
    {
        Interlocked.Add(ref _zero, zero);
        Interlocked.Add(ref _belowMin, belowMin);
        Interlocked.Add(ref _aboveMax, aboveMax);
        Interlocked.Add(ref _rejectedNaN, nan);
        Interlocked.Add(ref _rejectedNegative, negative);
        Interlocked.Add(ref _rejectedInfinite, infinite);
    }

    private static void WriteVarint(List<byte> buffer, ulong value)
    {
        while (value >= 0x80)
        {
            buffer.Add((byte)(value | 0x80));
            value >>= 7;
        }

        buffer.Add((byte)value);
    }

    private static double ReadDouble(ReadOnlySpan<byte> data, ref int position, string what)
    {
        if (data.Length - position < 8)
        {
            throw new InvalidDataException($"The quantile sketch is truncated: the {what} at byte {position} needs 8 bytes, {data.Length - position} remain.");
        }

        var value = BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(position, 8));
        position += 8;
        return value;
    }

    private static long ReadCount(ReadOnlySpan<byte> data, ref int position, string what)
    {
        var start = position;
        ulong value = 0;
        for (var shift = 0; shift < 63; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new InvalidDataException($"The quantile sketch is truncated: the {what} starting at byte {start} is incomplete.");
            }

            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value <= long.MaxValue ? (long)value : throw new InvalidDataException($"The {what} at byte {start} is out of range.");
            }
        }

        throw new InvalidDataException($"The {what} at byte {start} is out of range (a varint longer than 9 bytes).");
    }
}
