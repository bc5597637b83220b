using System.Globalization;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria.Internal;

namespace ReleaseKit.HealthCriteria;

/// <summary>Which change against the baseline is bad.</summary>
public enum ComparisonDirection
{
    /// <summary>An increase is bad (latency, failures, backlog).</summary>
    IncreaseIsBad = 0,

    /// <summary>A decrease is bad (throughput, completed jobs).</summary>
    DecreaseIsBad = 1,

    /// <summary>A change either way is bad.</summary>
    EitherIsBad = 2,
}

/// <summary>The statistic a threshold criterion judges.</summary>
public enum HealthStatistic
{
    /// <summary>A quantile of a distribution or gauge (set <see cref="ThresholdCriterion.Quantile"/>).</summary>
    Quantile = 0,

    /// <summary>The largest sample of a distribution or gauge (within the sketch's accuracy).</summary>
    Max = 1,

    /// <summary>The last sample of a gauge (queue backlog now).</summary>
    Last = 2,

    /// <summary>A counter's total in the window.</summary>
    Total = 3,

    /// <summary>A counter's total divided by the <see cref="ThresholdCriterion.Denominator"/> counter's total (an error rate).</summary>
    Rate = 4,
}

/// <summary>
/// One rule a release is judged by in a window. Every criterion has a minimum sample size (below it the criterion is
/// <see cref="Verdict.Inconclusive"/>, never a pass), and can be critical (its failure alone means roll back),
/// weighted or muted (evaluated and reported, never counted).
/// </summary>
public abstract class HealthCriterion
{
    private protected HealthCriterion(string name, string signal)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(signal);
        Name = name;
        Signal = signal;
    }

    /// <summary>Gets the criterion's name (unique among the criteria).</summary>
    public string Name { get; }

    /// <summary>Gets the name of the signal it judges.</summary>
    public string Signal { get; }

    /// <summary>Gets or sets the tenant tier it judges; <see langword="null"/> (default) judges every tier together.</summary>
    public string? Tier { get; set; }

    /// <summary>Gets or sets whether one failure of this criterion means roll back. Default <see langword="false"/>.</summary>
    public bool Critical { get; set; }

    /// <summary>Gets or sets the criterion's weight among the non-critical criteria (positive). Default 1.</summary>
    public double Weight { get; set; } = 1;

    /// <summary>Gets or sets whether the criterion is evaluated and reported but never counted. Default <see langword="false"/>.</summary>
    public bool Muted { get; set; }

    /// <summary>Gets or sets the smallest sample (values, or denominator events) the criterion decides on. Default 30.</summary>
    public long MinimumSampleSize { get; set; } = 30;

    /// <summary>Gets or sets the windows (by name) the criterion applies to; empty (default) means every window.</summary>
    public ISet<string> Windows { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    internal abstract CriterionResult Evaluate(EvaluationContext context);

    /// <summary>The judged statistic per time slice of the window, for charts; empty when the criterion has no such series.</summary>
    internal virtual IReadOnlyList<HealthSeriesPoint> Series(EvaluationContext context) => [];

    internal virtual void Validate(List<string> problems)
    {
        if (!(Weight > 0 && double.IsFinite(Weight)))
        {
            problems.Add($"Criterion '{Name}': Weight must be a positive finite number (got {Weight.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (MinimumSampleSize < 0)
        {
            problems.Add($"Criterion '{Name}': MinimumSampleSize must be 0 or more (got {MinimumSampleSize}).");
        }
    }

    internal CriterionResult Result(Verdict verdict, string reason, long sampleSize, double? observed = null, double? threshold = null, double? baseline = null, string? statistic = null, long? baselineSampleSize = null, double? pValue = null, double? effect = null, IReadOnlyList<Evidence>? extra = null) =>
        new(this, verdict, reason, sampleSize, observed, threshold, baseline, statistic, baselineSampleSize, pValue, effect, extra ?? []);

    internal CriterionResult TooFewSamples(long sampleSize, string what) =>
        Result(Verdict.Inconclusive, $"Too little data: {sampleSize} {what} in the window, {MinimumSampleSize} needed to decide.", sampleSize);

    internal static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>
/// A threshold on a statistic of a signal: absolute (<see cref="AtMost"/>, <see cref="AtLeast"/>) and/or relative to
/// the previous release's same window (<see cref="MaxRelativeIncrease"/>: "p99 at most +10%").
/// </summary>
public sealed class ThresholdCriterion : HealthCriterion
{
    /// <summary>Creates a threshold criterion.</summary>
    /// <param name="name">The criterion's name.</param>
    /// <param name="signal">The signal it judges.</param>
    /// <param name="statistic">The statistic it judges.</param>
    public ThresholdCriterion(string name, string signal, HealthStatistic statistic)
        : base(name, signal)
    {
        Statistic = statistic;
    }

    /// <summary>Gets the statistic judged.</summary>
    public HealthStatistic Statistic { get; }

    /// <summary>Gets or sets the quantile for <see cref="HealthStatistic.Quantile"/>, in [0, 1]. Default 0.99.</summary>
    public double Quantile { get; set; } = 0.99;

    /// <summary>Gets or sets the denominator counter of <see cref="HealthStatistic.Rate"/>; for <see cref="HealthStatistic.Total"/>, the counter whose total is the sample size.</summary>
    public string? Denominator { get; set; }

    /// <summary>Gets or sets the largest acceptable value.</summary>
    public double? AtMost { get; set; }

    /// <summary>Gets or sets the smallest acceptable value.</summary>
    public double? AtLeast { get; set; }

    /// <summary>Gets or sets the largest acceptable increase over the baseline, as a fraction (0.10 = +10%).</summary>
    public double? MaxRelativeIncrease { get; set; }

    /// <summary>Gets or sets the largest acceptable decrease below the baseline, as a fraction (0.10 = −10%).</summary>
    public double? MaxRelativeDecrease { get; set; }

    internal override void Validate(List<string> problems)
    {
        base.Validate(problems);
        if (!Enum.IsDefined(Statistic))
        {
            problems.Add($"Criterion '{Name}': Statistic must be Quantile, Max, Last, Total or Rate (got {Statistic}).");
        }

        if (Statistic == HealthStatistic.Quantile && !(Quantile >= 0 && Quantile <= 1))
        {
            problems.Add($"Criterion '{Name}': Quantile must be in [0, 1] (got {F(Quantile)}).");
        }

        if (Statistic == HealthStatistic.Rate && string.IsNullOrWhiteSpace(Denominator))
        {
            problems.Add($"Criterion '{Name}': a Rate needs a Denominator counter (for example billing.invoice_exports).");
        }

        if (Statistic == HealthStatistic.Total && string.IsNullOrWhiteSpace(Denominator) && MinimumSampleSize > 0)
        {
            problems.Add($"Criterion '{Name}': a Total needs a Denominator counter to measure its sample size, or MinimumSampleSize = 0 to judge the count alone.");
        }

        if (AtMost is null && AtLeast is null && MaxRelativeIncrease is null && MaxRelativeDecrease is null)
        {
            problems.Add($"Criterion '{Name}': set at least one of AtMost, AtLeast, MaxRelativeIncrease, MaxRelativeDecrease.");
        }

        foreach (var (label, value) in new[] { ("MaxRelativeIncrease", MaxRelativeIncrease), ("MaxRelativeDecrease", MaxRelativeDecrease) })
        {
            if (value is { } v && !(v >= 0 && double.IsFinite(v)))
            {
                problems.Add($"Criterion '{Name}': {label} must be a fraction of 0 or more, for example 0.10 for 10% (got {F(v)}).");
            }
        }
    }

    internal override CriterionResult Evaluate(EvaluationContext context)
    {
        var measured = Measure(context.Current(Signal, Tier), context.Current(Denominator, Tier), out var sampleSize, out var problem);
        if (problem is not null)
        {
            return Result(Verdict.Inconclusive, problem, sampleSize);
        }

        if (sampleSize < MinimumSampleSize)
        {
            return TooFewSamples(sampleSize, Statistic == HealthStatistic.Rate || Statistic == HealthStatistic.Total ? $"'{Denominator}' events" : "values");
        }

        var observed = measured!.Value;
        var statistic = Describe();
        if (AtMost is { } most && observed > most)
        {
            return Result(Verdict.Fail, $"{statistic} of '{Signal}' is {F(observed)}, above the limit {F(most)}.", sampleSize, observed, most, statistic: statistic);
        }

        if (AtLeast is { } least && observed < least)
        {
            return Result(Verdict.Fail, $"{statistic} of '{Signal}' is {F(observed)}, below the limit {F(least)}.", sampleSize, observed, least, statistic: statistic);
        }

        if (MaxRelativeIncrease is null && MaxRelativeDecrease is null)
        {
            return Result(Verdict.Pass, $"{statistic} of '{Signal}' is {F(observed)}, within the limit.", sampleSize, observed, AtMost ?? AtLeast, statistic: statistic);
        }

        if (context.Baseline is null)
        {
            return Result(Verdict.Inconclusive, $"No baseline: the previous release's '{context.Window.Name}' window is not available, so the relative limit cannot be checked.", sampleSize, observed, statistic: statistic);
        }

        var baselineMeasured = Measure(context.BaselineOf(Signal, Tier), context.BaselineOf(Denominator, Tier), out var baselineSize, out var baselineProblem);
        if (baselineProblem is not null || baselineSize < MinimumSampleSize)
        {
            return Result(Verdict.Inconclusive, $"The baseline has too little data ({baselineSize} samples, {MinimumSampleSize} needed){(baselineProblem is null ? "" : ": " + baselineProblem)}.", sampleSize, observed, statistic: statistic, baselineSampleSize: baselineSize);
        }

        var baseline = baselineMeasured!.Value;
        if (MaxRelativeIncrease is { } increase && observed > baseline * (1 + increase))
        {
            var limit = baseline * (1 + increase);
            return Result(Verdict.Fail, $"{statistic} of '{Signal}' is {F(observed)}, more than +{F(increase * 100)}% over the baseline {F(baseline)} (limit {F(limit)}).", sampleSize, observed, limit, baseline, statistic, baselineSize);
        }

        if (MaxRelativeDecrease is { } decrease && observed < baseline * (1 - decrease))
        {
            var limit = baseline * (1 - decrease);
            return Result(Verdict.Fail, $"{statistic} of '{Signal}' is {F(observed)}, more than −{F(decrease * 100)}% below the baseline {F(baseline)} (limit {F(limit)}).", sampleSize, observed, limit, baseline, statistic, baselineSize);
        }

        var relativeLimit = MaxRelativeIncrease is { } inc ? baseline * (1 + inc) : baseline * (1 - MaxRelativeDecrease!.Value);
        return Result(Verdict.Pass, $"{statistic} of '{Signal}' is {F(observed)}, within the limits (baseline {F(baseline)}).", sampleSize, observed, relativeLimit, baseline, statistic, baselineSize);
    }

    internal override IReadOnlyList<HealthSeriesPoint> Series(EvaluationContext context)
    {
        var signal = context.CurrentSlices(Signal, Tier);
        var denominator = context.CurrentSlices(Denominator, Tier);
        var points = new List<HealthSeriesPoint>();
        if (Statistic == HealthStatistic.Rate)
        {
            // A rate is measured where the denominator counted events; a slice without bad events is a rate of 0.
            var bad = signal?.ToDictionary(s => s.Start) ?? [];
            foreach (var (start, width, events) in denominator ?? [])
            {
                var numerator = bad.TryGetValue(start, out var b) ? b.Aggregate : new SignalAggregate(SignalKind.Counter, null, 0);
                if (Measure(numerator, events, out var n, out var problem) is { } rate && problem is null && double.IsFinite(rate))
                {
                    points.Add(new HealthSeriesPoint(start, width, rate, n));
                }
            }

            return points;
        }

        var denominators = denominator?.ToDictionary(s => s.Start);
        long running = 0;
        foreach (var (start, width, aggregate) in signal ?? [])
        {
            if (Statistic == HealthStatistic.Total)
            {
                // The limit applies to the window's total, so the series is the total so far.
                running += aggregate.Total;
                var events = denominators is not null && denominators.TryGetValue(start, out var d) ? d.Aggregate.Total : aggregate.Total;
                points.Add(new HealthSeriesPoint(start, width, running, events));
                continue;
            }

            if (Measure(aggregate, null, out var n, out var problem) is { } value && problem is null && double.IsFinite(value))
            {
                points.Add(new HealthSeriesPoint(start, width, value, n));
            }
        }

        return points;
    }

    private string Describe() => Statistic switch
    {
        HealthStatistic.Quantile => "p" + (Quantile * 100).ToString("0.###", CultureInfo.InvariantCulture),
        HealthStatistic.Rate => $"rate per '{Denominator}'",
        _ => Statistic.ToString().ToLowerInvariant(),
    };

    private double? Measure(SignalAggregate? signal, SignalAggregate? denominator, out long sampleSize, out string? problem)
    {
        sampleSize = 0;
        problem = null;
        if (signal is null)
        {
            problem = $"Signal '{Signal}' is not recorded (no such signal, or no instrument captured into it).";
            return null;
        }

        switch (Statistic)
        {
            case HealthStatistic.Quantile or HealthStatistic.Max or HealthStatistic.Last:
                if (signal.Sketch is null)
                {
                    problem = $"Signal '{Signal}' is a counter; {Statistic} needs a distribution or a gauge.";
                    return null;
                }

                sampleSize = signal.Sketch.Count;
                if (sampleSize == 0)
                {
                    return null;
                }

                return Statistic switch
                {
                    HealthStatistic.Quantile => signal.Sketch.GetQuantile(Quantile),
                    HealthStatistic.Max => signal.Sketch.GetQuantile(1),
                    _ => signal.Last,
                };
            case HealthStatistic.Total:
                sampleSize = denominator?.Total ?? signal.Total;
                if (Denominator is not null && denominator is null)
                {
                    problem = $"Denominator signal '{Denominator}' is not recorded.";
                }

                return signal.Total;
            default:
                if (denominator is null)
                {
                    problem = $"Denominator signal '{Denominator}' is not recorded.";
                    return null;
                }

                sampleSize = denominator.Total;
                return sampleSize == 0 ? null : (double)signal.Total / denominator.Total;
        }
    }
}

/// <summary>
/// A comparison with the previous release's same window: a Mann-Whitney rank-sum test on the two distributions
/// (normal approximation with tie and continuity corrections; exact for small samples without ties) and the
/// Hodges-Lehmann shift. The criterion fails only when the change is both significant and larger than the effect bound.
/// </summary>
public sealed class BaselineComparisonCriterion : HealthCriterion
{
    /// <summary>Creates a comparison criterion.</summary>
    /// <param name="name">The criterion's name.</param>
    /// <param name="signal">A distribution or gauge signal.</param>
    /// <param name="direction">Which change is bad.</param>
    public BaselineComparisonCriterion(string name, string signal, ComparisonDirection direction = ComparisonDirection.IncreaseIsBad)
        : base(name, signal)
    {
        Direction = direction;
    }

    /// <summary>Gets which change is bad.</summary>
    public ComparisonDirection Direction { get; }

    /// <summary>Gets or sets the significance level: the change counts when the p-value is below it. Default 0.01.</summary>
    public double SignificanceLevel { get; set; } = 0.01;

    /// <summary>Gets or sets the smallest shift that matters, as a fraction of the baseline median (0.05 = 5%). Default 0.05.</summary>
    public double MinimumRelativeShift { get; set; } = 0.05;

    internal override void Validate(List<string> problems)
    {
        base.Validate(problems);
        if (!(SignificanceLevel > 0 && SignificanceLevel < 1))
        {
            problems.Add($"Criterion '{Name}': SignificanceLevel must be in (0, 1), for example 0.01 (got {F(SignificanceLevel)}).");
        }

        if (!(MinimumRelativeShift >= 0 && double.IsFinite(MinimumRelativeShift)))
        {
            problems.Add($"Criterion '{Name}': MinimumRelativeShift must be a fraction of 0 or more, for example 0.05 (got {F(MinimumRelativeShift)}).");
        }

        if (!Enum.IsDefined(Direction))
        {
            problems.Add($"Criterion '{Name}': Direction must be IncreaseIsBad, DecreaseIsBad or EitherIsBad.");
        }
    }

    internal override CriterionResult Evaluate(EvaluationContext context)
    {
        var current = context.Current(Signal, Tier);
        if (current?.Sketch is not { } sketch)
        {
            return Result(Verdict.Inconclusive, $"Signal '{Signal}' is not recorded as a distribution.", 0);
        }

        if (sketch.Count < MinimumSampleSize)
        {
            return TooFewSamples(sketch.Count, "values");
        }

        if (context.Baseline is null)
        {
            return Result(Verdict.Inconclusive, $"No baseline: the previous release's '{context.Window.Name}' window is not available.", sketch.Count);
        }

        var baselineSketch = context.BaselineOf(Signal, Tier)?.Sketch;
        if (baselineSketch is null || baselineSketch.Count < MinimumSampleSize)
        {
            var n = baselineSketch?.Count ?? 0;
            return Result(Verdict.Inconclusive, $"The baseline has too little data: {n} values of '{Signal}', {MinimumSampleSize} needed.", sketch.Count, baselineSampleSize: n);
        }

        if (!sketch.HasSameConfiguration(baselineSketch))
        {
            return Result(Verdict.Inconclusive, "The baseline sketch was recorded with a different relative accuracy or range, so the two cannot be ranked together.", sketch.Count, baselineSampleSize: baselineSketch.Count);
        }

        var test = MannWhitney.Test([.. sketch.Groups()], [.. baselineSketch.Groups()], Direction);
        var baselineMedian = baselineSketch.GetQuantile(0.5);
        var relativeShift = baselineMedian == 0 ? (test.HodgesLehmannShift == 0 ? 0 : double.PositiveInfinity * Math.Sign(test.HodgesLehmannShift)) : test.HodgesLehmannShift / baselineMedian;
        var badShift = Direction switch
        {
            ComparisonDirection.IncreaseIsBad => relativeShift > MinimumRelativeShift,
            ComparisonDirection.DecreaseIsBad => -relativeShift > MinimumRelativeShift,
            _ => Math.Abs(relativeShift) > MinimumRelativeShift,
        };
        var statistic = string.Create(CultureInfo.InvariantCulture, $"Mann-Whitney U={test.U:G6}, z={test.Z:F3}, p={test.PValue:G4}{(test.Exact ? " (exact)" : "")}, Hodges-Lehmann shift={test.HodgesLehmannShift:G4} ({relativeShift * 100:F1}% of the baseline median {baselineMedian:G4})");
        var evidence = new[]
        {
            Evidence.Of($"{Name}.p_value", test.PValue, SignificanceLevel),
            Evidence.Of($"{Name}.hodges_lehmann_shift", test.HodgesLehmannShift, baselineMedian * MinimumRelativeShift),
            Evidence.Of($"{Name}.baseline_sample_size", test.BaselineCount),
        };
        var significant = test.PValue < SignificanceLevel;
        var verdict = significant && badShift ? Verdict.Fail : Verdict.Pass;
        var reason = verdict == Verdict.Fail
            ? $"'{Signal}' shifted by {F(test.HodgesLehmannShift)} ({F(relativeShift * 100)}% of the baseline median), beyond the {F(MinimumRelativeShift * 100)}% bound, with p = {F(test.PValue)} < {F(SignificanceLevel)}."
            : significant
                ? $"'{Signal}' differs from the baseline (p = {F(test.PValue)}) but the shift {F(test.HodgesLehmannShift)} is within the {F(MinimumRelativeShift * 100)}% bound or in the harmless direction."
                : $"No significant change of '{Signal}' against the baseline (p = {F(test.PValue)} ≥ {F(SignificanceLevel)}).";
        return Result(verdict, reason, sketch.Count, sketch.GetQuantile(0.5), baselineMedian * (1 + MinimumRelativeShift), baselineMedian, statistic, test.BaselineCount, test.PValue, test.HodgesLehmannShift, evidence);
    }

    internal override IReadOnlyList<HealthSeriesPoint> Series(EvaluationContext context)
    {
        // The criterion compares medians: the series is the median of each slice.
        var points = new List<HealthSeriesPoint>();
        foreach (var (start, width, aggregate) in context.CurrentSlices(Signal, Tier) ?? [])
        {
            if (aggregate.Sketch is { Count: > 0 } sketch)
            {
                points.Add(new HealthSeriesPoint(start, width, sketch.GetQuantile(0.5), sketch.Count));
            }
        }

        return points;
    }
}
