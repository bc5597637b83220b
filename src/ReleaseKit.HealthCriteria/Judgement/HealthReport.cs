using System.Globalization;
using ReleaseKit.Gates;

namespace ReleaseKit.HealthCriteria;

/// <summary>A release's health in a window, from best to worst: <c>Healthy &lt; Degraded &lt; Inconclusive &lt; RollBack</c>.</summary>
public enum HealthVerdict
{
    /// <summary>Every counted criterion passed.</summary>
    Healthy = 0,

    /// <summary>A non-critical criterion failed or warned, below the roll-back weight: watch it.</summary>
    Degraded = 1,

    /// <summary>A counted criterion could not decide (too little data, no baseline, a missing signal): never read as healthy.</summary>
    Inconclusive = 2,

    /// <summary>A critical criterion failed, or the failing criteria carry at least the roll-back weight: roll back.</summary>
    RollBack = 3,
}

/// <summary>The judgement of one criterion with its evidence.</summary>
public sealed class CriterionResult
{
    private Lazy<IReadOnlyList<HealthSeriesPoint>> _series = new(static () => []);

    internal CriterionResult(HealthCriterion criterion, Verdict verdict, string reason, long sampleSize, double? observed, double? threshold, double? baseline, string? statistic, long? baselineSampleSize, double? pValue, double? effect, IReadOnlyList<Evidence> evidence)
    {
        Name = criterion.Name;
        Signal = criterion.Signal;
        Critical = criterion.Critical;
        Weight = criterion.Weight;
        Muted = criterion.Muted;
        Verdict = verdict;
        Reason = reason;
        SampleSize = sampleSize;
        Observed = observed;
        Threshold = threshold;
        Baseline = baseline;
        Statistic = statistic;
        BaselineSampleSize = baselineSampleSize;
        PValue = pValue;
        Effect = effect;
        Evidence = evidence;
    }

    /// <summary>Gets the criterion's name.</summary>
    public string Name { get; }

    /// <summary>Gets the signal judged.</summary>
    public string Signal { get; }

    /// <summary>Gets whether the criterion is critical.</summary>
    public bool Critical { get; }

    /// <summary>Gets the criterion's weight.</summary>
    public double Weight { get; }

    /// <summary>Gets whether the criterion is muted (reported, not counted).</summary>
    public bool Muted { get; }

    /// <summary>Gets the criterion's verdict: Pass, Warn, Inconclusive or Fail.</summary>
    public Verdict Verdict { get; }

    /// <summary>Gets why, in words.</summary>
    public string Reason { get; }

    /// <summary>Gets the sample size the decision rests on (values, or denominator events).</summary>
    public long SampleSize { get; }

    /// <summary>Gets the observed value (a quantile, a rate, a burn rate, the current median), if measured.</summary>
    public double? Observed { get; }

    /// <summary>Gets the threshold the observed value was held to, if any.</summary>
    public double? Threshold { get; }

    /// <summary>Gets the baseline value (the previous release's same window), if used.</summary>
    public double? Baseline { get; }

    /// <summary>Gets the statistic, described (for example the Mann-Whitney U, z and p).</summary>
    public string? Statistic { get; }

    /// <summary>Gets the baseline's sample size, if a baseline was used.</summary>
    public long? BaselineSampleSize { get; }

    /// <summary>Gets the p-value of a comparison with the baseline, if any.</summary>
    public double? PValue { get; }

    /// <summary>Gets the effect (the Hodges-Lehmann shift) of a comparison with the baseline, if any.</summary>
    public double? Effect { get; }

    /// <summary>Gets further facts (burn rate per alert window, p-value...).</summary>
    public IReadOnlyList<Evidence> Evidence { get; }

    /// <summary>
    /// Gets the judged statistic per time slice of the window, in time order, for charts: the rate, quantile, median or burn
    /// rate of each slice (a counter's total so far for <see cref="HealthStatistic.Total"/>). Computed on first access from
    /// the slices the monitor still holds; empty when the signal recorded nothing in the window.
    /// </summary>
    public IReadOnlyList<HealthSeriesPoint> Series => _series.Value;

    /// <summary>The criterion's facts as gate evidence.</summary>
    /// <returns>The evidence.</returns>
    public IEnumerable<Evidence> ToEvidence()
    {
        var suffix = Muted ? " (muted)" : Critical ? " (critical)" : "";
        yield return new Evidence(Name, Verdict.ToWireName() + suffix, source: Signal);
        if (Observed is { } observed)
        {
            yield return new Evidence($"{Name}.observed", Format(observed), Threshold is { } t ? Format(t) : null, source: Statistic);
        }

        if (Baseline is { } baseline)
        {
            yield return new Evidence($"{Name}.baseline", Format(baseline));
        }

        yield return Gates.Evidence.Of($"{Name}.sample_size", SampleSize);
        foreach (var item in Evidence)
        {
            yield return item;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Verdict} — {Reason}";

    internal void SetSeries(Func<IReadOnlyList<HealthSeriesPoint>> series) => _series = new(series);

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>A release's health verdict in a window, with the evidence of every criterion and the data problems seen.</summary>
public sealed class HealthReport
{
    internal HealthReport(string releaseId, ReleaseWindow window, DateTimeOffset evaluatedAt, HealthVerdict verdict, string reason, IReadOnlyList<CriterionResult> criteria, IReadOnlyList<Evidence> dataIssues)
    {
        ReleaseId = releaseId;
        Window = window;
        EvaluatedAt = evaluatedAt;
        Verdict = verdict;
        Reason = reason;
        Criteria = criteria;
        DataIssues = dataIssues;
    }

    /// <summary>Gets the release judged.</summary>
    public string ReleaseId { get; }

    /// <summary>Gets the window judged.</summary>
    public ReleaseWindow Window { get; }

    /// <summary>Gets when the judgement was made (a window still open is judged on its data so far).</summary>
    public DateTimeOffset EvaluatedAt { get; }

    /// <summary>Gets the verdict.</summary>
    public HealthVerdict Verdict { get; }

    /// <summary>Gets why, in words.</summary>
    public string Reason { get; }

    /// <summary>Gets every criterion's judgement, muted ones included.</summary>
    public IReadOnlyList<CriterionResult> Criteria { get; }

    /// <summary>Gets the bad input seen (rejected values, counters that went backwards, instruments not found, clock jumps).</summary>
    public IReadOnlyList<Evidence> DataIssues { get; }

    /// <summary>Gets the criterion with the given name.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The result.</returns>
    /// <exception cref="KeyNotFoundException">No criterion has that name.</exception>
    public CriterionResult this[string name] =>
        Criteria.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)) ?? throw new KeyNotFoundException($"No criterion named '{name}' in the report.");

    /// <summary>The gate verdict: Healthy → Pass, Degraded → Warn, Inconclusive → Inconclusive, RollBack → Fail.</summary>
    /// <param name="verdict">The health verdict.</param>
    /// <returns>The gate verdict.</returns>
    public static Verdict ToGateVerdict(HealthVerdict verdict) => verdict switch
    {
        HealthVerdict.Healthy => Gates.Verdict.Pass,
        HealthVerdict.Degraded => Gates.Verdict.Warn,
        HealthVerdict.RollBack => Gates.Verdict.Fail,
        _ => Gates.Verdict.Inconclusive,
    };

    /// <summary>The report as a gate result, with every criterion's evidence and the data issues.</summary>
    /// <returns>The gate result.</returns>
    public GateResult ToGateResult()
    {
        var evidence = new List<Evidence>
        {
            Evidence.Of("health.verdict", Verdict.ToString()),
            Evidence.Of("health.window", Window.ToString()),
            Evidence.Of("health.release", ReleaseId),
        };
        foreach (var criterion in Criteria)
        {
            evidence.AddRange(criterion.ToEvidence());
        }

        evidence.AddRange(DataIssues);
        return GateResult.Create(ToGateVerdict(Verdict), $"{Verdict}: {Reason}", evidence);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Verdict} ({Window.Name}): {Reason}";
}
