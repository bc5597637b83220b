using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class VerdictTests
{
    [Fact]
    public void Verdicts_are_ordered_pass_warn_inconclusive_fail()
    {
        Assert.True(Verdict.Pass < Verdict.Warn);
        Assert.True(Verdict.Warn < Verdict.Inconclusive);
        Assert.True(Verdict.Inconclusive < Verdict.Fail);
    }

    [Fact]
    public void An_empty_set_of_verdicts_is_inconclusive_not_pass()
    {
        Assert.Equal(Verdict.Inconclusive, Array.Empty<Verdict>().Worst());
    }

    [Property]
    public Property Combine_is_worst_wins_commutative_and_associative(Verdict a, Verdict b, Verdict c) =>
        (a.Combine(b) == b.Combine(a)
         && a.Combine(b).Combine(c) == a.Combine(b.Combine(c))
         && a.Combine(b) >= a && a.Combine(b) >= b
         && (a.Combine(b) == a || a.Combine(b) == b)).ToProperty();
}
