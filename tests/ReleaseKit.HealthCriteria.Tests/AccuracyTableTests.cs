using System.Globalization;
using System.Text;

namespace ReleaseKit.HealthCriteria.Tests;

/// <summary>
/// Computes the accuracy table of docs/health-criteria.md: the sketch's relative error at p50/p90/p99/p99.9 on
/// 100,000 values of three distributions (fixed seeds). Set RK_ACCURACY_TABLE=path to write the Markdown table.
/// </summary>
public sealed class AccuracyTableTests
{
    private static readonly double[] Quantiles = [0.5, 0.9, 0.99, 0.999];

    [Fact]
    public void The_relative_error_at_p50_p90_p99_and_p999_stays_within_one_percent_on_three_distributions()
    {
        var rows = new (string Name, double[] Values)[]
        {
            ("lognormal (μ = ln 0.05, σ = 1.5)", Distributions.LogNormal(new Random(1), 100_000)),
            ("Pareto (shape 1.2, scale 0.01)", Distributions.Pareto(new Random(2), 100_000)),
            ("bimodal (70% ≈ 2 ms, 30% ≈ 800 ms)", Distributions.Bimodal(new Random(3), 100_000)),
        };
        var table = new StringBuilder();
        table.AppendLine("| distribution (n = 100,000) | p50 | p90 | p99 | p99.9 |");
        table.AppendLine("|---|---|---|---|---|");
        foreach (var (name, values) in rows)
        {
            var sketch = Distributions.SketchOf(values);
            Array.Sort(values);
            table.Append("| ").Append(name);
            foreach (var q in Quantiles)
            {
                var exact = Distributions.ExactQuantile(values, q);
                var error = Math.Abs(sketch.GetQuantile(q) - exact) / exact;
                Assert.True(error <= 0.01 * (1 + 1e-9), $"{name} p{q * 100}: relative error {error}");
                table.Append(CultureInfo.InvariantCulture, $" | {error * 100:0.000}%");
            }

            table.AppendLine(" |");
        }

        if (Environment.GetEnvironmentVariable("RK_ACCURACY_TABLE") is { Length: > 0 } path)
        {
            File.WriteAllText(path, table.ToString());
        }
    }
}
