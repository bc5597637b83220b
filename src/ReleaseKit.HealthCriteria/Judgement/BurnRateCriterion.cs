using System.Globalization;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria.Internal;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// One multi-window burn-rate alert: it fires when the error budget burns at least <see cref="Factor"/> times the
/// sustainable rate over both the long and the short window. The factor is derived, not typed in:
/// <c>BudgetConsumed × Period / LongWindow</c> (2% of a 30-day budget in 1 hour is 14.4×).
/// </summary>
public sealed class BurnRateAlert
{
    /// <summary>Creates an alert.</summary>
    /// <param name="budgetConsumed">The fraction of the period's error budget that, burnt within <paramref name="longWindow"/>, fires the alert (0.02 = 2%).</param>
    /// <param name="longWindow">The long window.</param>
    /// <param name="shortWindow">The short window (it stops the alert once the burning stopped); shorter than the long window.</param>
    /// <param name="rollBack">Whether firing means roll back (a page) rather than degraded (a ticket).</param>
    public BurnRateAlert(double budgetConsumed, TimeSpan longWindow, TimeSpan shortWindow, bool rollBack)
    {
        BudgetConsumed = budgetConsumed;
        LongWindow = longWindow;
        ShortWindow = shortWindow;
        RollBack = rollBack;
    }

    /// <summary>Gets the fraction of the error budget that fires the alert.</summary>
    public double BudgetConsumed { get; }

    /// <summary>Gets the long window.</summary>
    public TimeSpan LongWindow { get; }

    /// <summary>Gets the short window.</summary>
    public TimeSpan ShortWindow { get; }

    /// <summary>Gets whether firing means roll back (otherwise degraded).</summary>
    public bool RollBack { get; }

    /// <summary>The burn-rate factor for an SLO period: <c>BudgetConsumed × period / LongWindow</c>.</summary>
    /// <param name="period">The SLO period (30 days by default).</param>
    /// <returns>The factor.</returns>
    public double Factor(TimeSpan period) => BudgetConsumed * period.TotalSeconds / LongWindow.TotalSeconds;

    /// <summary>The Google SRE workbook's defaults: 2% of the budget in 1 h (and 5 min), 5% in 6 h (and 30 min) page; 10% in 3 days (and 6 h) is a ticket.</summary>
    /// <returns>The three alerts; with a 30-day period their factors are 14.4, 6 and 1.</returns>
    public static IReadOnlyList<BurnRateAlert> SreWorkbookDefaults() =>
    [
        new(0.02, TimeSpan.FromHours(1), TimeSpan.FromMinutes(5), rollBack: true),
        new(0.05, TimeSpan.FromHours(6), TimeSpan.FromMinutes(30), rollBack: true),
        new(0.10, TimeSpan.FromDays(3), TimeSpan.FromHours(6), rollBack: false),
    ];
}

/// <summary>
/// Multi-window burn rate of an error budget: bad events over total events against an SLO objective. Windows are
/// measured back from the evaluation time and never reach before the deploy (the release is judged on its own data).
/// A firing roll-back alert fails the criterion; a firing ticket alert makes it a warning (degraded).
/// </summary>
public sealed class BurnRateCriterion : HealthCriterion
{
    /// <summary>Creates a burn-rate criterion.</summary>
    /// <param name="name">The criterion's name.</param>
    /// <param name="badSignal">The counter of bad events (failed requests, failed invoice exports).</param>
    /// <param name="totalSignal">The counter of all events.</param>
    /// <param name="objective">The SLO objective, in (0, 1), for example 0.999.</param>
    public BurnRateCriterion(string name, string badSignal, string totalSignal, double objective)
        : base(name, badSignal)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(totalSignal);
        TotalSignal = totalSignal;
        Objective = objective;
    }

    /// <summary>Gets the counter of all events.</summary>
    public string TotalSignal { get; }

    /// <summary>Gets the SLO objective.</summary>
    public double Objective { get; }

    /// <summary>Gets or sets the SLO period the error budget spans. Default 30 days.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Gets the alerts; the SRE workbook's defaults unless replaced.</summary>
    public IList<BurnRateAlert> Alerts { get; } = [.. BurnRateAlert.SreWorkbookDefaults()];

    internal override void Validate(List<string> problems)
    {
        base.Validate(problems);
        if (!(Objective > 0 && Objective < 1))
        {
            problems.Add($"Criterion '{Name}': Objective must be in (0, 1), for example 0.999 (got {F(Objective)}).");
        }

        if (Period <= TimeSpan.Zero)
        {
            problems.Add($"Criterion '{Name}': Period must be positive, for example 30 days.");
        }

        if (Alerts.Count == 0)
        {
            problems.Add($"Criterion '{Name}': at least one alert is needed (BurnRateAlert.SreWorkbookDefaults()).");
        }

        foreach (var alert in Alerts)
        {
            if (!(alert.BudgetConsumed > 0 && alert.BudgetConsumed <= 1) || alert.ShortWindow <= TimeSpan.Zero || alert.LongWindow <= alert.ShortWindow)
            {
                problems.Add($"Criterion '{Name}': an alert needs BudgetConsumed in (0, 1] and 0 < ShortWindow < LongWindow (got {F(alert.BudgetConsumed)}, {alert.ShortWindow}, {alert.LongWindow}).");
            }
        }
    }

    internal override CriterionResult Evaluate(EvaluationContext context)
    {
        var budget = 1 - Objective;
        var evidence = new List<Evidence>();
        var verdict = Verdict.Pass;
        var reasons = new List<string>();
        long sampleSize = 0;
        double? worstObserved = null;
        double? worstFactor = null;
        foreach (var alert in Alerts)
        {
            var factor = alert.Factor(Period);
            var (longRate, longTotal, longBad) = Burn(context, alert.LongWindow, budget);
            var (shortRate, shortTotal, _) = Burn(context, alert.ShortWindow, budget);
            sampleSize = Math.Max(sampleSize, longTotal);
            var label = string.Create(CultureInfo.InvariantCulture, $"{alert.LongWindow.TotalHours:0.##}h/{alert.ShortWindow.TotalMinutes:0.##}m");
            evidence.Add(new Evidence($"{Name}.burn_rate.{label}", string.Create(CultureInfo.InvariantCulture, $"long {longRate:G4} ({longBad}/{longTotal}), short {shortRate:G4} (n={shortTotal})"), F(factor), "x"));
            if (longTotal < MinimumSampleSize)
            {
                verdict = verdict.Combine(Verdict.Inconclusive);
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: too little data ({longTotal} events, {MinimumSampleSize} needed)"));
                continue;
            }

            if (longRate >= factor && shortRate >= factor)
            {
                var outcome = alert.RollBack ? Verdict.Fail : Verdict.Warn;
                verdict = verdict.Combine(outcome);
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: burning {longRate:G4}× (long) and {shortRate:G4}× (short), at or above {factor:G4}×"));
                if (worstObserved is null)
                {
                    // Alerts are listed most urgent first: the evidence shows the first one that fired.
                    worstObserved = longRate;
                    worstFactor = factor;
                }
            }
        }

        if (worstObserved is null)
        {
            var first = Alerts[0];
            worstObserved = Burn(context, first.LongWindow, budget).Rate;
            worstFactor = first.Factor(Period);
        }

        var reason = verdict switch
        {
            Verdict.Pass => $"The error budget of {F(Objective * 100)}% burns below every alert's factor.",
            _ => string.Join("; ", reasons) + ".",
        };
        return Result(verdict, reason, sampleSize, worstObserved, worstFactor, statistic: $"burn rate of '{Signal}' per '{TotalSignal}' against {F(Objective * 100)}% over {Period.TotalDays:0.##} days", extra: evidence);
    }

    internal override IReadOnlyList<HealthSeriesPoint> Series(EvaluationContext context)
    {
        // The burn rate of each slice of the window: bad / total / (1 - objective), comparable with the alert's factor.
        var budget = 1 - Objective;
        var bad = context.CurrentSlices(Signal, Tier)?.ToDictionary(s => s.Start) ?? [];
        var points = new List<HealthSeriesPoint>();
        foreach (var (start, width, total) in context.CurrentSlices(TotalSignal, Tier) ?? [])
        {
            if (total.Total > 0)
            {
                var badEvents = bad.TryGetValue(start, out var b) ? b.Aggregate.Total : 0;
                points.Add(new HealthSeriesPoint(start, width, (double)badEvents / total.Total / budget, total.Total));
            }
        }

        return points;
    }

    private (double Rate, long Total, long Bad) Burn(EvaluationContext context, TimeSpan window, double budget)
    {
        var start = context.Now - window;
        if (start < context.DeployedAt)
        {
            start = context.DeployedAt;
        }

        var bad = context.Monitor.Find(Signal)?.Aggregate(start, context.Now.AddTicks(1), Tier).Total ?? 0;
        var total = context.Monitor.Find(TotalSignal)?.Aggregate(start, context.Now.AddTicks(1), Tier).Total ?? 0;
        var rate = total == 0 ? 0 : (double)bad / total / budget;
        return (rate, total, bad);
    }
}
