using Microsoft.Extensions.Options;

namespace ReleaseKit.HealthCriteria;

/// <summary>What a release is judged on: its signals, the instruments they are captured from, its criteria and windows.</summary>
public sealed class ReleaseHealthOptions
{
    /// <summary>Gets or sets the release id (the snapshot key of the baseline). Default <c>current</c>.</summary>
    public string ReleaseId { get; set; } = "current";

    /// <summary>Gets or sets the deploy time windows are aligned to; <see langword="null"/> (default) is when the monitor is created.</summary>
    public DateTimeOffset? DeployedAt { get; set; }

    /// <summary>Gets or sets the width of a time slice. Default 1 minute. Windows are resolved to the slice.</summary>
    public TimeSpan SliceWidth { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how long slices keep <see cref="SliceWidth"/> resolution before they are merged into hourly slices. Default 6 hours.</summary>
    public TimeSpan FineRetention { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Gets or sets how long data is kept at all. Default 40 days (a billing cycle and a margin).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(40);

    /// <summary>Gets or sets the sketches' relative accuracy. Default 1%.</summary>
    public double RelativeAccuracy { get; set; } = QuantileSketch.DefaultRelativeAccuracy;

    /// <summary>Gets or sets the smallest value the sketches resolve with the accuracy guarantee. Default 1e-6 (a microsecond, in seconds).</summary>
    public double SketchMinValue { get; set; } = 1e-6;

    /// <summary>Gets or sets the largest value the sketches resolve with the accuracy guarantee. Default 1e6.</summary>
    public double SketchMaxValue { get; set; } = 1e6;

    /// <summary>Gets or sets the measurement tag whose value is the tenant tier. Default <c>tenant.tier</c>.</summary>
    public string TierTag { get; set; } = "tenant.tier";

    /// <summary>Gets or sets the billing calendar of <see cref="ReleaseWindow.FirstBillingCycleName"/>.</summary>
    public BillingCalendar? BillingCalendar { get; set; }

    /// <summary>Gets or sets the share of the counted weight whose failure means roll back even when no failing criterion is critical, in (0, 1]. Default 0.5.</summary>
    public double RollBackWeightFraction { get; set; } = 0.5;

    /// <summary>Gets the signals declared up front (signals are also created on first use and by captures).</summary>
    public IList<SignalDefinition> Signals { get; } = [];

    /// <summary>Gets the instruments captured through a <see cref="System.Diagnostics.Metrics.MeterListener"/>.</summary>
    public IList<MetricCapture> Captures { get; } = [];

    /// <summary>Gets the criteria.</summary>
    public IList<HealthCriterion> Criteria { get; } = [];

    /// <summary>Gets custom windows by name: an offset after the deploy and a length.</summary>
    public IDictionary<string, (TimeSpan Offset, TimeSpan Length)> CustomWindows { get; } = new Dictionary<string, (TimeSpan, TimeSpan)>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Captures an instrument into a signal.</summary>
    /// <param name="instrumentName">The instrument's name, for example <c>http.server.request.duration</c>.</param>
    /// <param name="signal">The signal's name; the instrument's name when <see langword="null"/>.</param>
    /// <param name="meterName">The meter's name, when the instrument name is not unique.</param>
    /// <returns>These options.</returns>
    public ReleaseHealthOptions Capture(string instrumentName, string? signal = null, string? meterName = null)
    {
        Captures.Add(new MetricCapture(instrumentName, signal ?? instrumentName, meterName));
        return this;
    }

    /// <summary>Adds a criterion.</summary>
    /// <param name="criterion">The criterion.</param>
    /// <returns>These options.</returns>
    public ReleaseHealthOptions Add(HealthCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        Criteria.Add(criterion);
        return this;
    }
}

/// <summary>An instrument captured into a signal: histograms become distributions, counters counters, gauges and up-down counters gauges.</summary>
/// <param name="InstrumentName">The instrument's name.</param>
/// <param name="Signal">The signal's name.</param>
/// <param name="MeterName">The meter's name, or <see langword="null"/> for any meter.</param>
public sealed record MetricCapture(string InstrumentName, string Signal, string? MeterName = null);

/// <summary>Validates <see cref="ReleaseHealthOptions"/> at startup.</summary>
internal sealed class ReleaseHealthOptionsValidator : IValidateOptions<ReleaseHealthOptions>
{
    public ValidateOptionsResult Validate(string? name, ReleaseHealthOptions options)
    {
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    internal static List<string> Problems(ReleaseHealthOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ReleaseId))
        {
            problems.Add("ReleaseHealthOptions.ReleaseId is required (the release's id or version).");
        }

        if (options.SliceWidth <= TimeSpan.Zero || options.SliceWidth > TimeSpan.FromHours(1) || TimeSpan.FromHours(1).Ticks % options.SliceWidth.Ticks != 0)
        {
            problems.Add($"ReleaseHealthOptions.SliceWidth must divide one hour evenly, for example 00:01:00 or 00:05:00 (got {options.SliceWidth}).");
        }

        if (options.FineRetention < TimeSpan.FromHours(1))
        {
            problems.Add($"ReleaseHealthOptions.FineRetention must be at least one hour (got {options.FineRetention}).");
        }

        if (options.Retention < options.FineRetention)
        {
            problems.Add($"ReleaseHealthOptions.Retention must be at least FineRetention ({options.FineRetention}); got {options.Retention}.");
        }

        try
        {
            _ = new QuantileSketch(options.RelativeAccuracy, options.SketchMinValue, options.SketchMaxValue);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            problems.Add($"ReleaseHealthOptions.RelativeAccuracy/SketchMinValue/SketchMaxValue: {ex.Message}");
        }

        if (string.IsNullOrWhiteSpace(options.TierTag))
        {
            problems.Add("ReleaseHealthOptions.TierTag must name a tag, for example tenant.tier.");
        }

        if (!(options.RollBackWeightFraction > 0 && options.RollBackWeightFraction <= 1))
        {
            problems.Add($"ReleaseHealthOptions.RollBackWeightFraction must be in (0, 1] (got {options.RollBackWeightFraction}).");
        }

        foreach (var capture in options.Captures)
        {
            if (string.IsNullOrWhiteSpace(capture.InstrumentName) || string.IsNullOrWhiteSpace(capture.Signal))
            {
                problems.Add("ReleaseHealthOptions.Captures: every capture needs an instrument name and a signal name.");
            }
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var criterion in options.Criteria)
        {
            if (!names.Add(criterion.Name))
            {
                problems.Add($"ReleaseHealthOptions.Criteria: the name '{criterion.Name}' is used twice; names must be unique.");
            }

            criterion.Validate(problems);
            if (criterion.Windows.Contains(ReleaseWindow.FirstBillingCycleName) && options.BillingCalendar is null)
            {
                problems.Add($"Criterion '{criterion.Name}' applies to the first billing cycle, but ReleaseHealthOptions.BillingCalendar is not set.");
            }
        }

        foreach (var (windowName, (offset, length)) in options.CustomWindows)
        {
            if (offset < TimeSpan.Zero || length <= TimeSpan.Zero)
            {
                problems.Add($"ReleaseHealthOptions.CustomWindows['{windowName}']: the offset must be 0 or more and the length positive (got {offset}, {length}).");
            }
        }

        return problems;
    }
}
