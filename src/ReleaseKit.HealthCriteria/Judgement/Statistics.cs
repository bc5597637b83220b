namespace ReleaseKit.HealthCriteria.Internal;

/// <summary>The result of a Mann-Whitney rank-sum test of a current sample against a baseline.</summary>
internal sealed record MannWhitneyResult(double U, double Z, double PValue, double HodgesLehmannShift, long CurrentCount, long BaselineCount, bool Exact);

/// <summary>Mann-Whitney U test on grouped data (distinct values with counts), and the standard normal distribution.</summary>
internal static class MannWhitney
{
    private const int ExactLimit = 50;

    /// <summary>Tests <paramref name="current"/> against <paramref name="baseline"/>.</summary>
    /// <param name="current">Ascending (value, count) groups of the current sample.</param>
    /// <param name="baseline">Ascending (value, count) groups of the baseline sample.</param>
    /// <param name="direction">The alternative: the current sample is greater, less, or either.</param>
    /// <param name="allowExact">Use the exact distribution when there are no ties and both samples are small.</param>
    public static MannWhitneyResult Test(IReadOnlyList<(double Value, long Count)> current, IReadOnlyList<(double Value, long Count)> baseline, ComparisonDirection direction, bool allowExact = true)
    {
        double n1 = current.Sum(g => g.Count);
        double n2 = baseline.Sum(g => g.Count);
        if (n1 == 0 || n2 == 0)
        {
            throw new ArgumentException("Both samples need at least one value.");
        }

        // Walk the distinct values of both samples in order: mid-ranks, rank sum of the current sample, tie sizes.
        double rankSum = 0, tieTerm = 0, below = 0;
        var ties = false;
        int i = 0, j = 0;
        while (i < current.Count || j < baseline.Count)
        {
            double value;
            if (j >= baseline.Count || (i < current.Count && current[i].Value < baseline[j].Value))
            {
                value = current[i].Value;
            }
            else
            {
                value = baseline[j].Value;
            }

            double a = 0, b = 0;
            while (i < current.Count && current[i].Value == value)
            {
                a += current[i++].Count;
            }

            while (j < baseline.Count && baseline[j].Value == value)
            {
                b += baseline[j++].Count;
            }

            var t = a + b;
            rankSum += a * (below + (t + 1) / 2);
            tieTerm += (t * t * t) - t;
            ties |= t > 1;
            below += t;
        }

        var u = rankSum - (n1 * (n1 + 1) / 2);
        var n = n1 + n2;
        var mean = n1 * n2 / 2;
        var variance = n1 * n2 / 12 * ((n + 1) - (tieTerm / (n * (n - 1))));
        var sigma = Math.Sqrt(Math.Max(variance, 0));
        double z, p;
        var exact = allowExact && !ties && n1 <= ExactLimit && n2 <= ExactLimit;
        z = sigma == 0 ? 0 : direction switch
        {
            ComparisonDirection.IncreaseIsBad => (u - mean - 0.5) / sigma,
            ComparisonDirection.DecreaseIsBad => (u - mean + 0.5) / sigma,
            _ => (Math.Abs(u - mean) - 0.5) / sigma,
        };
        if (exact)
        {
            p = ExactPValue((int)n1, (int)n2, (int)Math.Round(u), direction);
        }
        else if (sigma == 0)
        {
            p = 1;
        }
        else
        {
            p = direction switch
            {
                ComparisonDirection.IncreaseIsBad => UpperTail(z),
                ComparisonDirection.DecreaseIsBad => UpperTail(-z),
                _ => Math.Min(1, 2 * UpperTail(z)),
            };
        }

        return new MannWhitneyResult(u, z, Math.Clamp(p, 0, 1), HodgesLehmann(current, baseline), (long)n1, (long)n2, exact);
    }

    /// <summary>The median of all pairwise differences current − baseline (weighted by the groups' counts).</summary>
    public static double HodgesLehmann(IReadOnlyList<(double Value, long Count)> current, IReadOnlyList<(double Value, long Count)> baseline)
    {
        var pairs = new List<(double Difference, double Weight)>(current.Count * baseline.Count);
        double total = 0;
        foreach (var (x, a) in current)
        {
            foreach (var (y, b) in baseline)
            {
                pairs.Add((x - y, (double)a * b));
                total += (double)a * b;
            }
        }

        pairs.Sort(static (l, r) => l.Difference.CompareTo(r.Difference));
        var lowIndex = Math.Floor((total - 1) / 2);
        var highIndex = Math.Floor(total / 2);
        double low = double.NaN, high = double.NaN, seen = 0;
        foreach (var (difference, weight) in pairs)
        {
            if (double.IsNaN(low) && seen + weight > lowIndex)
            {
                low = difference;
            }

            if (seen + weight > highIndex)
            {
                high = difference;
                break;
            }

            seen += weight;
        }

        return (low + high) / 2;
    }

    /// <summary>The exact p-value of U (the number of pairs with current &gt; baseline) for samples without ties.</summary>
    public static double ExactPValue(int n1, int n2, int u, ComparisonDirection direction)
    {
        // counts[i, j][u]: orderings of i current and j baseline values with statistic u. Adding the largest value:
        // from the current sample it beats all j baseline values (u - j); from the baseline it adds nothing.
        var max = n1 * n2;
        var previous = new double[n2 + 1][];
        for (var j = 0; j <= n2; j++)
        {
            previous[j] = new double[max + 1];
            previous[j][0] = 1; // i = 0
        }

        for (var ii = 1; ii <= n1; ii++)
        {
            var row = new double[n2 + 1][];
            row[0] = new double[max + 1];
            row[0][0] = 1;
            for (var j = 1; j <= n2; j++)
            {
                row[j] = new double[max + 1];
                for (var k = 0; k <= ii * j; k++)
                {
                    row[j][k] = (k >= j ? previous[j][k - j] : 0) + row[j - 1][k];
                }
            }

            previous = row;
        }

        var distribution = previous[n2];
        double total = 0, atLeast = 0, atMost = 0;
        for (var k = 0; k <= max; k++)
        {
            total += distribution[k];
            if (k >= u)
            {
                atLeast += distribution[k];
            }

            if (k <= u)
            {
                atMost += distribution[k];
            }
        }

        return direction switch
        {
            ComparisonDirection.IncreaseIsBad => atLeast / total,
            ComparisonDirection.DecreaseIsBad => atMost / total,
            _ => Math.Min(1, 2 * Math.Min(atLeast, atMost) / total),
        };
    }

    /// <summary>Q(z) = 1 − Φ(z), the upper tail of the standard normal distribution.</summary>
    public static double UpperTail(double z)
    {
        if (double.IsNaN(z))
        {
            return double.NaN;
        }

        if (z < 0)
        {
            return 1 - UpperTail(-z);
        }

        var density = Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
        if (z < 5)
        {
            // Marsaglia (2004): Φ(z) = 1/2 + φ(z)(z + z³/3 + z⁵/(3·5) + ...).
            double sum = z, term = z, z2 = z * z;
            for (var k = 3; k < 500; k += 2)
            {
                term *= z2 / k;
                var next = sum + term;
                if (next == sum)
                {
                    break;
                }

                sum = next;
            }

            return 0.5 - (density * sum);
        }

        // Continued fraction for the tail: Q(z) = φ(z) / (z + 1/(z + 2/(z + 3/(z + ...)))).
        var fraction = z;
        for (var k = 80; k >= 1; k--)
        {
            fraction = z + (k / fraction);
        }

        return density / fraction;
    }
}
