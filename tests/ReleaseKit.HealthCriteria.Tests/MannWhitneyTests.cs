using ReleaseKit.HealthCriteria.Internal;

namespace ReleaseKit.HealthCriteria.Tests;

/// <summary>
/// Reference values computed independently of this implementation, by a separate script that ranks the pooled
/// values by brute force (average ranks for ties), computes U = R1 − n1(n1+1)/2, the tie-corrected
/// σ² = n1·n2/12·((N+1) − Σ(t³−t)/(N(N−1))), the continuity-corrected z = (U − n1·n2/2 ∓ 0.5)/σ and Φ from
/// Python's math.erfc; exact p-values by enumerating every split of the pooled sample (C(N, n1) of them).
/// Two are checkable by hand: [1,2,3] vs [4,5,6] has U = 0, σ² = 3·3·7/12 = 5.25, z = −4/√5.25 = −1.7457,
/// Φ(−1.7457) = 0.04043, and exactly 1 of C(6,3) = 20 splits is as extreme: p = 0.05; 8 values all above 9 has
/// exact p = 1/C(17,8) = 1/24310.
/// </summary>
public sealed class MannWhitneyTests
{
    public static TheoryData<double[], double[], ComparisonDirection, double, double, double> NormalApproximation => new()
    {
        // no ties
        { [1, 2, 3], [4, 5, 6], ComparisonDirection.DecreaseIsBad, 0, -1.7457431218879391, 0.04042779918502615 },
        { [4, 5, 6], [1, 2, 3], ComparisonDirection.IncreaseIsBad, 9, 1.7457431218879391, 0.04042779918502615 },
        { [1.1, 2.2, 3.3, 4.4, 5.5], [0.5, 1.5, 2.5, 3.5], ComparisonDirection.EitherIsBad, 14, 0.8573214099741123, 0.3912672792826394 },
        { [10, 11, 12, 13, 14, 15, 16, 17], [1, 2, 3, 4, 5, 6, 7, 8, 9], ComparisonDirection.IncreaseIsBad, 72, 3.415989092705286, 0.00031775396212345685 },
        // ties
        { [1, 2, 2, 3, 3, 3], [2, 3, 4, 4, 5], ComparisonDirection.DecreaseIsBad, 5.5, -1.7022223637379919, 0.04435684599838807 },
        { [1, 1, 2, 2, 3, 3, 4, 4], [3, 3, 4, 4, 5, 5, 6, 6], ComparisonDirection.EitherIsBad, 8, 2.5127343356318863, 0.011979951213734286 },
        { [5, 5, 5, 6, 6, 7, 8, 9, 9, 9, 10, 12], [4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 8], ComparisonDirection.IncreaseIsBad, 98, 1.9705915965589598, 0.024385304304904862 },
        { [1, 1, 1, 1], [1, 1, 1, 2], ComparisonDirection.EitherIsBad, 6, 0.75, 0.4532547047537364 },
    };

    [Theory]
    [MemberData(nameof(NormalApproximation))]
    public void The_normal_approximation_matches_the_reference_table(double[] current, double[] baseline, ComparisonDirection direction, double u, double z, double p)
    {
        var result = MannWhitney.Test(Groups(current), Groups(baseline), direction, allowExact: false);
        Assert.Equal(u, result.U, 9);
        Assert.Equal(z, result.Z, 9);
        Assert.Equal(p, result.PValue, 1e-9);
        Assert.False(result.Exact);
    }

    [Theory]
    [InlineData(new double[] { 1, 2, 3 }, new double[] { 4, 5, 6 }, ComparisonDirection.DecreaseIsBad, 0.05)]
    [InlineData(new double[] { 4, 5, 6 }, new double[] { 1, 2, 3 }, ComparisonDirection.IncreaseIsBad, 0.05)]
    [InlineData(new double[] { 1.1, 2.2, 3.3, 4.4, 5.5 }, new double[] { 0.5, 1.5, 2.5, 3.5 }, ComparisonDirection.EitherIsBad, 0.4126984126984127)]
    [InlineData(new double[] { 10, 11, 12, 13, 14, 15, 16, 17 }, new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, ComparisonDirection.IncreaseIsBad, 4.113533525298231e-05)]
    public void Small_samples_without_ties_get_the_exact_p_value(double[] current, double[] baseline, ComparisonDirection direction, double p)
    {
        var result = MannWhitney.Test(Groups(current), Groups(baseline), direction);
        Assert.True(result.Exact);
        Assert.Equal(p, result.PValue, 1e-12);
    }

    [Fact]
    public void The_Hodges_Lehmann_shift_is_the_median_of_pairwise_differences()
    {
        // differences 4−1.. : {1,2,2,3,3,3,4,4,5} → median 3; with an even count the two middle ones are averaged.
        Assert.Equal(3, MannWhitney.HodgesLehmann(Groups([4, 5, 6]), Groups([1, 2, 3])));
        Assert.Equal(1.5, MannWhitney.HodgesLehmann(Groups([2, 3]), Groups([1])));
    }

    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(1.96, 0.024997895148220435)]
    [InlineData(-1, 0.8413447460685429)]
    [InlineData(6, 9.865876450377012e-10)]
    [InlineData(10, 7.619853024160593e-24)]
    public void The_normal_tail_matches_erfc(double z, double q) =>
        Assert.Equal(q, MannWhitney.UpperTail(z), q * 1e-9);

    private static List<(double, long)> Groups(double[] values) =>
        [.. values.GroupBy(v => v).OrderBy(g => g.Key).Select(g => (g.Key, (long)g.Count()))];
}
