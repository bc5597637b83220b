namespace ReleaseKit.Gates;

/// <summary>
/// The outcome of a gate, ordered from best to worst: <c>Pass &lt; Warn &lt; Inconclusive &lt; Fail</c>.
/// Verdicts combine worst-wins (<see cref="VerdictExtensions.Combine(Verdict, Verdict)"/>).
/// </summary>
/// <remarks>
/// <see cref="Inconclusive"/> is ranked worse than <see cref="Warn"/> on purpose: a check that could not
/// decide must never be read as a pass (fail closed).
/// </remarks>
public enum Verdict
{
    /// <summary>The gate's condition holds.</summary>
    Pass = 0,

    /// <summary>The condition holds with a caveat a person should read (an advisory failure, a recorded override).</summary>
    Warn = 1,

    /// <summary>The gate could not decide (too little data, a source unavailable). Blocks like a failure.</summary>
    Inconclusive = 2,

    /// <summary>The gate's condition does not hold.</summary>
    Fail = 3,
}

/// <summary>Combination and classification helpers for <see cref="Verdict"/>.</summary>
public static class VerdictExtensions
{
    /// <summary>Returns the worse of two verdicts.</summary>
    /// <param name="left">A verdict.</param>
    /// <param name="right">Another verdict.</param>
    /// <returns><paramref name="left"/> or <paramref name="right"/>, whichever is worse.</returns>
    public static Verdict Combine(this Verdict left, Verdict right) => left >= right ? left : right;

    /// <summary>Returns the worst verdict of a sequence, or <paramref name="whenEmpty"/> when it has none.</summary>
    /// <param name="verdicts">The verdicts to combine.</param>
    /// <param name="whenEmpty">The verdict of an empty sequence; <see cref="Verdict.Inconclusive"/> by default, since nothing was checked.</param>
    /// <returns>The worst verdict.</returns>
    public static Verdict Worst(this IEnumerable<Verdict> verdicts, Verdict whenEmpty = Verdict.Inconclusive)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        var any = false;
        var worst = Verdict.Pass;
        foreach (var verdict in verdicts)
        {
            any = true;
            worst = worst.Combine(verdict);
        }

        return any ? worst : whenEmpty;
    }

    /// <summary>Whether a verdict lets a release proceed (<see cref="Verdict.Pass"/> or <see cref="Verdict.Warn"/>).</summary>
    /// <param name="verdict">The verdict.</param>
    /// <returns><see langword="true"/> for Pass and Warn.</returns>
    public static bool IsPassing(this Verdict verdict) => verdict is Verdict.Pass or Verdict.Warn;

    /// <summary>The lower-case name used in reports and telemetry (<c>pass</c>, <c>warn</c>, <c>inconclusive</c>, <c>fail</c>).</summary>
    /// <param name="verdict">The verdict.</param>
    /// <returns>The name.</returns>
    public static string ToWireName(this Verdict verdict) => verdict switch
    {
        Verdict.Pass => "pass",
        Verdict.Warn => "warn",
        Verdict.Inconclusive => "inconclusive",
        Verdict.Fail => "fail",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "Unknown verdict."),
    };
}
