namespace ReleaseKit.HealthCriteria.Tests;

/// <summary>Random samples for the sketch's accuracy tests, from a seeded <see cref="Random"/>.</summary>
internal static class Distributions
{
    public static double[] Uniform(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => 0.001 + (random.NextDouble() * 10))];

    /// <summary>Pareto with shape 1.2 and scale 0.01: heavy-tailed (latency with stragglers).</summary>
    public static double[] Pareto(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => 0.01 / Math.Pow(1 - random.NextDouble(), 1 / 1.2))];

    /// <summary>Lognormal with μ = ln 0.05 and σ = 1.5.</summary>
    public static double[] LogNormal(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => Math.Exp(Math.Log(0.05) + (1.5 * Normal(random))))];

    /// <summary>Two modes: fast cache hits around 2 ms and slow database calls around 800 ms.</summary>
    public static double[] Bimodal(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => random.NextDouble() < 0.7 ? 0.002 * Math.Exp(0.2 * Normal(random)) : 0.8 * Math.Exp(0.3 * Normal(random)))];

    public static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>The exact lower quantile: the value at sorted index ⌊q·(n−1)⌋.</summary>
    public static double ExactQuantile(double[] sorted, double q) => sorted[(int)Math.Floor(q * (sorted.Length - 1))];

    public static QuantileSketch SketchOf(IEnumerable<double> values, double alpha = 0.01)
    {
        var sketch = new QuantileSketch(alpha);
        foreach (var value in values)
        {
            sketch.Add(value);
        }

        return sketch;
    }
}
