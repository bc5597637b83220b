using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ReleaseKit.HealthCriteria.Tests;

public sealed class QuantileSketchTests
{
    private static readonly double[] Quantiles = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

    public enum Shape
    {
        Uniform,
        Pareto,
        LogNormal,
        Bimodal,
    }

    private static double[] Sample(Shape shape, int seed, int n)
    {
        var random = new Random(seed);
        return shape switch
        {
            Shape.Uniform => Distributions.Uniform(random, n),
            Shape.Pareto => Distributions.Pareto(random, n),
            Shape.LogNormal => Distributions.LogNormal(random, n),
            _ => Distributions.Bimodal(random, n),
        };
    }

    [Property(MaxTest = 80)]
    public bool Every_quantile_is_within_the_relative_accuracy_of_the_exact_quantile(Shape shape, int seed, PositiveInt size, bool coarse)
    {
        var alpha = coarse ? 0.05 : 0.01;
        var values = Sample(shape, seed, 1 + (size.Get % 3000));
        var sketch = Distributions.SketchOf(values, alpha);
        Array.Sort(values);
        return Quantiles.All(q =>
        {
            var exact = Distributions.ExactQuantile(values, q);
            var estimate = sketch.GetQuantile(q);
            return Math.Abs(estimate - exact) <= (alpha * exact * (1 + 1e-9));
        });
    }

    [Property(MaxTest = 60)]
    public bool Merging_is_commutative_and_associative_and_equals_the_sketch_of_the_union(int seedA, int seedB, int seedC, PositiveInt a, PositiveInt b, PositiveInt c)
    {
        var xa = Sample(Shape.Pareto, seedA, a.Get % 500);
        var xb = Sample(Shape.Bimodal, seedB, b.Get % 500);
        var xc = Sample(Shape.LogNormal, seedC, c.Get % 500);
        var (sa, sb, sc) = (Distributions.SketchOf(xa), Distributions.SketchOf(xb), Distributions.SketchOf(xc));
        var union = Distributions.SketchOf(xa.Concat(xb).Concat(xc));
        var ab_c = QuantileSketch.Merge(QuantileSketch.Merge(sa, sb), sc);
        var a_bc = QuantileSketch.Merge(sa, QuantileSketch.Merge(sb, sc));
        var cba = QuantileSketch.Merge(sc, sb, sa);
        return SameContent(ab_c, union) && SameContent(a_bc, union) && SameContent(cba, union);
    }

    [Property(MaxTest = 60)]
    public bool Serialisation_round_trips(Shape shape, int seed, PositiveInt size, NormalFloat[] extras)
    {
        var sketch = Distributions.SketchOf(Sample(shape, seed, size.Get % 2000));
        foreach (var extra in extras)
        {
            sketch.Add(extra.Get); // negatives, zeros, huge values: rejected or out-of-range counts travel too
        }

        sketch.Add(double.NaN);
        sketch.Add(double.PositiveInfinity);
        var copy = QuantileSketch.FromBytes(sketch.ToBytes());
        return SameContent(copy, sketch) && copy.RelativeAccuracy == sketch.RelativeAccuracy;
    }

    [Fact]
    public void Out_of_range_and_invalid_values_are_counted_not_dropped()
    {
        var sketch = new QuantileSketch(0.01, minValue: 1e-3, maxValue: 1e3);
        sketch.Add(0);
        sketch.Add(1e-4);
        sketch.Add(1e4);
        sketch.Add(double.NaN);
        sketch.Add(-1);
        sketch.Add(double.NegativeInfinity);
        sketch.Add(double.PositiveInfinity);
        sketch.Add(1);

        Assert.Equal(4, sketch.Count);
        Assert.Equal((1L, 1L, 1L), (sketch.ZeroCount, sketch.BelowMinCount, sketch.AboveMaxCount));
        Assert.Equal((1L, 1L, 2L, 4L), (sketch.RejectedNaNCount, sketch.RejectedNegativeCount, sketch.RejectedInfiniteCount, sketch.RejectedCount));
        Assert.Equal(0, sketch.GetQuantile(0));
        Assert.Equal(1e3, sketch.GetQuantile(1));
    }

    [Fact]
    public void Recording_from_many_threads_loses_no_value()
    {
        var sketch = new QuantileSketch();
        Parallel.For(0, 8, t =>
        {
            for (var i = 1; i <= 10_000; i++)
            {
                sketch.Add(i * 0.001);
            }
        });

        Assert.Equal(80_000, sketch.Count);
    }

    [Fact]
    public void Merging_sketches_of_different_accuracy_is_a_clear_error()
    {
        var ex = Assert.Throws<ArgumentException>(() => new QuantileSketch(0.01).MergeFrom(new QuantileSketch(0.02)));
        Assert.Contains("relative accuracy 0.02", ex.Message);
        var range = Assert.Throws<ArgumentException>(() => new QuantileSketch(0.01, 1e-6, 1).MergeFrom(new QuantileSketch(0.01, 1e-6, 10)));
        Assert.Contains("range", range.Message);
    }

    [Fact]
    public void An_empty_sketch_has_no_quantile()
    {
        var sketch = new QuantileSketch();
        Assert.False(sketch.TryGetQuantile(0.5, out _));
        Assert.Throws<InvalidOperationException>(() => sketch.GetQuantile(0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => sketch.GetQuantile(1.5));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.6)]
    [InlineData(double.NaN)]
    public void An_invalid_relative_accuracy_is_rejected(double alpha) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantileSketch(alpha));

    [Fact]
    public void Bad_bytes_are_a_clear_error_that_says_what_and_where()
    {
        var good = Distributions.SketchOf([0.1, 0.2, 0.3]).ToBytes();
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => QuantileSketch.FromBytes("nope!"u8)).Message);

        var version = (byte[])good.Clone();
        version[4] = 9;
        Assert.Contains("version 9", Assert.Throws<InvalidDataException>(() => QuantileSketch.FromBytes(version)).Message);

        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => QuantileSketch.FromBytes(good.AsSpan(0, good.Length - 1))).Message);
        Assert.Contains("trailing", Assert.Throws<InvalidDataException>(() => QuantileSketch.FromBytes([.. good, 0])).Message);

        var alpha = (byte[])good.Clone();
        BitConverter.GetBytes(double.NaN).CopyTo(alpha, 5);
        Assert.Contains("header", Assert.Throws<InvalidDataException>(() => QuantileSketch.FromBytes(alpha)).Message);
    }

    internal static bool SameContent(QuantileSketch a, QuantileSketch b) =>
        a.GetBucketCounts().AsSpan().SequenceEqual(b.GetBucketCounts()) &&
        (a.ZeroCount, a.BelowMinCount, a.AboveMaxCount, a.RejectedNaNCount, a.RejectedNegativeCount, a.RejectedInfiniteCount) ==
        (b.ZeroCount, b.BelowMinCount, b.AboveMaxCount, b.RejectedNaNCount, b.RejectedNegativeCount, b.RejectedInfiniteCount);
}
