using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria.Internal;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// Records a release's signals (directly, or captured from <see cref="System.Diagnostics.Metrics"/> instruments through a
/// <see cref="MeterListener"/>) in time slices aligned to its deploy time, and judges them per window into a
/// <see cref="HealthReport"/>. One per process; thread-safe. Dispose it to stop listening.
/// </summary>
public sealed partial class ReleaseHealthMonitor : IDisposable
{
    private readonly ReleaseHealthOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SliceLayout _layout;
    private readonly ConcurrentDictionary<string, HealthSignal> _signals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<MetricCapture, int> _capturedInstruments = new();
    private readonly ConcurrentDictionary<string, long> _kindConflicts = new(StringComparer.Ordinal);
    private readonly MeterListener? _listener;

    /// <summary>Creates a monitor and starts capturing the configured instruments.</summary>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the message names every problem.</exception>
    public ReleaseHealthMonitor(IOptions<ReleaseHealthOptions> options, TimeProvider timeProvider, ILogger<ReleaseHealthMonitor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options.Value;
        var problems = ReleaseHealthOptionsValidator.Problems(_options);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ReleaseHealthOptions), problems);
        }

        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        DeployedAt = _options.DeployedAt ?? timeProvider.GetUtcNow();
        _layout = new SliceLayout(_options.SliceWidth.Ticks, TimeSpan.TicksPerHour, _options.FineRetention.Ticks, _options.Retention.Ticks);
        foreach (var definition in _options.Signals)
        {
            Signal(definition);
        }

        if (_options.Captures.Count > 0)
        {
            foreach (var capture in _options.Captures)
            {
                _capturedInstruments[capture] = 0;
            }

            _listener = new MeterListener { InstrumentPublished = OnInstrumentPublished };
            _listener.SetMeasurementEventCallback<double>(static (i, v, t, s) => ((CaptureState)s!).On(v, t));
            _listener.SetMeasurementEventCallback<float>(static (i, v, t, s) => ((CaptureState)s!).On(v, t));
            _listener.SetMeasurementEventCallback<long>(static (i, v, t, s) => ((CaptureState)s!).On(v, t));
            _listener.SetMeasurementEventCallback<int>(static (i, v, t, s) => ((CaptureState)s!).On(v, t));
            _listener.SetMeasurementEventCallback<short>(static (i, v, t, s) => ((CaptureState)s!).On(v, t));
            _listener.SetMeasurementEventCallback<byte>(static (i, v, t, s) => ((CaptureState)s!).On(v, t));
            _listener.SetMeasurementEventCallback<decimal>(static (i, v, t, s) => ((CaptureState)s!).On((double)v, t));
            _listener.Start();
        }
    }

    /// <summary>Gets the release id.</summary>
    public string ReleaseId => _options.ReleaseId;

    /// <summary>Gets the deploy time windows are aligned to.</summary>
    public DateTimeOffset DeployedAt { get; }

    /// <summary>Gets the signals recorded so far.</summary>
    public IReadOnlyCollection<HealthSignal> Signals => [.. _signals.Values];

    /// <summary>Returns the signal for a definition, creating it on first use.</summary>
    /// <param name="definition">The definition (an SLI, a business indicator or your own).</param>
    /// <returns>The signal.</returns>
    /// <exception cref="InvalidOperationException">A signal of that name exists with another kind.</exception>
    public HealthSignal Signal(SignalDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var signal = _signals.GetOrAdd(definition.Name, static (_, state) => state.self.CreateSignal(state.definition), (self: this, definition));
        if (signal.Definition.Kind != definition.Kind)
        {
            throw new InvalidOperationException($"Signal '{definition.Name}' is already recorded as a {signal.Definition.Kind}; it cannot also be a {definition.Kind}.");
        }

        return signal;
    }

    /// <summary>Returns the signal with the given name, or <see langword="null"/> when nothing created it.</summary>
    /// <param name="name">The signal's name.</param>
    /// <returns>The signal.</returns>
    public HealthSignal? Find(string? name) => name is null ? null : _signals.GetValueOrDefault(name);

    /// <summary>Returns a window by name: <c>first-hour</c>, <c>first-day</c>, <c>first-billing-cycle</c> or a configured custom window.</summary>
    /// <param name="name">The window's name.</param>
    /// <returns>The window, aligned to <see cref="DeployedAt"/>.</returns>
    /// <exception cref="ArgumentException">The name is unknown, or the billing cycle is asked for without a billing calendar.</exception>
    public ReleaseWindow Window(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (string.Equals(name, ReleaseWindow.FirstHourName, StringComparison.OrdinalIgnoreCase))
        {
            return ReleaseWindow.FirstHour(DeployedAt);
        }

        if (string.Equals(name, ReleaseWindow.FirstDayName, StringComparison.OrdinalIgnoreCase))
        {
            return ReleaseWindow.FirstDay(DeployedAt);
        }

        if (string.Equals(name, ReleaseWindow.FirstBillingCycleName, StringComparison.OrdinalIgnoreCase))
        {
            return _options.BillingCalendar is { } calendar
                ? ReleaseWindow.FirstBillingCycle(DeployedAt, calendar)
                : throw new ArgumentException("The first billing cycle needs ReleaseHealthOptions.BillingCalendar.", nameof(name));
        }

        if (_options.CustomWindows.TryGetValue(name, out var custom))
        {
            return ReleaseWindow.Custom(name, DeployedAt, custom.Offset, custom.Length);
        }

        throw new ArgumentException($"Unknown window '{name}'. Known: {ReleaseWindow.FirstHourName}, {ReleaseWindow.FirstDayName}, {ReleaseWindow.FirstBillingCycleName}{string.Concat(_options.CustomWindows.Keys.Select(k => ", " + k))}.", nameof(name));
    }

    /// <summary>Collects the current values of observable instruments (observable counters and gauges).</summary>
    public void ObserveInstruments() => _listener?.RecordObservableInstruments();

    /// <summary>Takes a snapshot of every signal in a window (for the next release's baseline).</summary>
    /// <param name="window">The window.</param>
    /// <returns>The snapshot, up to now if the window is still open.</returns>
    public WindowSnapshot Snapshot(ReleaseWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        ObserveInstruments();
        var end = Min(window.End, _timeProvider.GetUtcNow().AddTicks(1)); // an open window includes the current slice
        var aggregates = new List<KeyValuePair<(string, string), SignalAggregate>>();
        foreach (var signal in _signals.Values)
        {
            aggregates.Add(new((signal.Name, ""), signal.Aggregate(window.Start, end)));
            foreach (var tier in signal.Tiers)
            {
                aggregates.Add(new((signal.Name, tier), signal.Aggregate(window.Start, end, tier)));
            }
        }

        return new WindowSnapshot(ReleaseId, window.Name, window.Start, end, aggregates);
    }

    /// <summary>Judges the release in a window against its criteria (and the baseline, when given).</summary>
    /// <param name="window">The window; an open window is judged on its data so far.</param>
    /// <param name="baseline">The previous release's snapshot of the same window, if any.</param>
    /// <returns>The report.</returns>
    public HealthReport Evaluate(ReleaseWindow window, WindowSnapshot? baseline = null)
    {
        ArgumentNullException.ThrowIfNull(window);
        ObserveInstruments();
        using var activity = HealthTelemetry.ActivitySource.StartActivity(HealthTelemetryTags.EvaluateActivity);
        var now = _timeProvider.GetUtcNow();
        var context = new EvaluationContext(this, window, now, DeployedAt, baseline);
        var results = new List<CriterionResult>();
        foreach (var criterion in _options.Criteria)
        {
            if (criterion.Windows.Count > 0 && !criterion.Windows.Contains(window.Name))
            {
                continue;
            }

            var result = criterion.Evaluate(context);
            result.SetSeries(() => criterion.Series(context));
            results.Add(result);
        }

        var (verdict, reason) = Combine(results, _options.RollBackWeightFraction);
        if (!window.IsComplete(now) && verdict == HealthVerdict.Healthy)
        {
            reason += string.Create(CultureInfo.InvariantCulture, $" The window is still open ({(now - window.Start).TotalMinutes:0} of {window.Length.TotalMinutes:0} minutes elapsed).");
        }

        var report = new HealthReport(ReleaseId, window, now, verdict, reason, results, DataIssues());
        Publish(activity, report);
        if (verdict == HealthVerdict.RollBack)
        {
            LogRollBack(_logger, ReleaseId, window.Name, reason);
        }
        else
        {
            LogVerdict(_logger, ReleaseId, window.Name, verdict, reason);
        }

        return report;
    }

    /// <inheritdoc />
    public void Dispose() => _listener?.Dispose();

    internal static (HealthVerdict Verdict, string Reason) Combine(IReadOnlyList<CriterionResult> results, double rollBackWeightFraction)
    {
        var counted = results.Where(r => !r.Muted).ToList();
        if (counted.Count == 0)
        {
            return (HealthVerdict.Inconclusive, "No criterion is counted in this window (none declared, or all muted): nothing was judged.");
        }

        var criticalFailures = counted.Where(r => r.Critical && r.Verdict == Verdict.Fail).ToList();
        if (criticalFailures.Count > 0)
        {
            return (HealthVerdict.RollBack, "Critical criteria failed: " + string.Join("; ", criticalFailures.Select(r => $"{r.Name} ({r.Reason})")));
        }

        var totalWeight = counted.Sum(r => r.Weight);
        var failing = counted.Where(r => r.Verdict == Verdict.Fail).ToList();
        var failingWeight = failing.Sum(r => r.Weight);
        if (failing.Count > 0 && failingWeight >= rollBackWeightFraction * totalWeight)
        {
            return (HealthVerdict.RollBack, string.Create(CultureInfo.InvariantCulture, $"Failing criteria carry {failingWeight:G4} of {totalWeight:G4} weight (roll back at {rollBackWeightFraction:P0}): ") + string.Join("; ", failing.Select(r => r.Name)));
        }

        var inconclusive = counted.Where(r => r.Verdict == Verdict.Inconclusive).ToList();
        if (inconclusive.Count > 0)
        {
            return (HealthVerdict.Inconclusive, "Could not decide: " + string.Join("; ", inconclusive.Select(r => $"{r.Name} ({r.Reason})")));
        }

        var degraded = counted.Where(r => r.Verdict is Verdict.Fail or Verdict.Warn).ToList();
        if (degraded.Count > 0)
        {
            return (HealthVerdict.Degraded, "Degraded: " + string.Join("; ", degraded.Select(r => $"{r.Name} ({r.Reason})")));
        }

        return (HealthVerdict.Healthy, $"All {counted.Count} counted criteria passed.");
    }

    private static void Publish(Activity? activity, HealthReport report)
    {
        HealthTelemetry.Evaluations.Add(1, new KeyValuePair<string, object?>(HealthTelemetryTags.Window, report.Window.Name), new KeyValuePair<string, object?>(HealthTelemetryTags.HealthVerdict, report.Verdict.ToString()));
        if (activity is null)
        {
            return;
        }

        activity.SetTag(HealthTelemetryTags.ReleaseId, report.ReleaseId);
        activity.SetTag(HealthTelemetryTags.Window, report.Window.Name);
        foreach (var criterion in report.Criteria)
        {
            var tags = new ActivityTagsCollection
            {
                [HealthTelemetryTags.Criterion] = criterion.Name,
                [HealthTelemetryTags.CriterionVerdict] = criterion.Verdict.ToWireName(),
                [HealthTelemetryTags.SampleSize] = criterion.SampleSize,
            };
            if (criterion.Observed is { } observed)
            {
                tags[HealthTelemetryTags.Observed] = observed;
            }

            if (criterion.Threshold is { } threshold)
            {
                tags[HealthTelemetryTags.Threshold] = threshold;
            }

            if (criterion.PValue is { } p)
            {
                tags[HealthTelemetryTags.PValue] = p;
            }

            activity.AddEvent(new ActivityEvent(HealthTelemetryTags.CriterionEvent, tags: tags));
        }

        activity.AddEvent(new ActivityEvent(HealthTelemetryTags.VerdictEvent, tags: new ActivityTagsCollection { [HealthTelemetryTags.HealthVerdict] = report.Verdict.ToString(), [HealthTelemetryTags.Window] = report.Window.Name }));
        activity.SetTag(HealthTelemetryTags.HealthVerdict, report.Verdict.ToString());
        if (report.Verdict != HealthVerdict.Healthy)
        {
            activity.SetStatus(ActivityStatusCode.Error, report.Verdict.ToString());
        }
    }

    private List<Evidence> DataIssues()
    {
        var issues = new List<Evidence>();
        foreach (var (capture, instruments) in _capturedInstruments)
        {
            if (instruments == 0)
            {
                issues.Add(Evidence.Of($"capture.{capture.Signal}.instrument_not_found", $"No instrument '{capture.InstrumentName}'{(capture.MeterName is null ? "" : $" on meter '{capture.MeterName}'")} has been published; the signal '{capture.Signal}' gets no data from it."));
            }
        }

        foreach (var (signal, count) in _kindConflicts)
        {
            issues.Add(Evidence.Of($"capture.{signal}.kind_conflict", count, 0));
        }

        foreach (var signal in _signals.Values)
        {
            if (signal.RejectedIncrements > 0)
            {
                issues.Add(Evidence.Of($"signal.{signal.Name}.rejected_increments", signal.RejectedIncrements, 0));
            }

            if (signal.CounterResets > 0)
            {
                issues.Add(Evidence.Of($"signal.{signal.Name}.counter_resets", signal.CounterResets, 0));
            }

            if (signal.ClockJumps > 0)
            {
                issues.Add(Evidence.Of($"signal.{signal.Name}.clock_jumps", signal.ClockJumps, 0));
            }

            if (signal.Definition.Kind != SignalKind.Counter)
            {
                var all = signal.Aggregate(DateTimeOffset.MinValue.AddYears(1), DateTimeOffset.MaxValue.AddYears(-1)).Sketch!;
                if (all.RejectedCount > 0)
                {
                    issues.Add(new Evidence($"signal.{signal.Name}.rejected_values", string.Create(CultureInfo.InvariantCulture, $"{all.RejectedNaNCount} NaN, {all.RejectedNegativeCount} negative, {all.RejectedInfiniteCount} infinite"), "0"));
                }

                if (all.BelowMinCount + all.AboveMaxCount > 0)
                {
                    issues.Add(new Evidence($"signal.{signal.Name}.out_of_range", string.Create(CultureInfo.InvariantCulture, $"{all.BelowMinCount} below {all.MinValue}, {all.AboveMaxCount} above {all.MaxValue} (no accuracy guarantee)"), "0"));
                }
            }
        }

        return issues;
    }

    private HealthSignal CreateSignal(SignalDefinition definition)
    {
        var (alpha, min, max) = (_options.RelativeAccuracy, _options.SketchMinValue, _options.SketchMaxValue);
        return new HealthSignal(definition, DeployedAt, _layout, _timeProvider, () => new QuantileSketch(alpha, min, max));
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        foreach (var capture in _options.Captures)
        {
            if (!string.Equals(capture.InstrumentName, instrument.Name, StringComparison.Ordinal) ||
                (capture.MeterName is not null && !string.Equals(capture.MeterName, instrument.Meter.Name, StringComparison.Ordinal)))
            {
                continue;
            }

            var mode = ModeOf(instrument);
            var kind = mode switch
            {
                CaptureMode.Distribution => SignalKind.Distribution,
                CaptureMode.Delta or CaptureMode.Cumulative => SignalKind.Counter,
                _ => SignalKind.Gauge,
            };
            HealthSignal signal;
            try
            {
                signal = Signal(new SignalDefinition(capture.Signal, kind, instrument.Unit, instrument.Description));
            }
            catch (InvalidOperationException)
            {
                _kindConflicts.AddOrUpdate(capture.Signal, 1, static (_, n) => n + 1);
                continue;
            }

            _capturedInstruments.AddOrUpdate(capture, 1, static (_, n) => n + 1);
            listener.EnableMeasurementEvents(instrument, new CaptureState(signal, mode, _options.TierTag));
            return;
        }
    }

    private static CaptureMode ModeOf(Instrument instrument)
    {
        var type = instrument.GetType();
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (definition == typeof(Histogram<>))
        {
            return CaptureMode.Distribution;
        }

        if (definition == typeof(Counter<>))
        {
            return CaptureMode.Delta;
        }

        if (definition == typeof(ObservableCounter<>))
        {
            return CaptureMode.Cumulative;
        }

        if (definition == typeof(UpDownCounter<>))
        {
            return CaptureMode.RunningSum;
        }

        return CaptureMode.Level;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Release {ReleaseId} is {Verdict} in window {Window}: {Reason}")]
    private static partial void LogVerdict(ILogger logger, string releaseId, string window, HealthVerdict verdict, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Release {ReleaseId} should be rolled back (window {Window}): {Reason}")]
    private static partial void LogRollBack(ILogger logger, string releaseId, string window, string reason);

    private enum CaptureMode
    {
        Distribution,
        Delta,
        Cumulative,
        RunningSum,
        Level,
    }

    private sealed class CaptureState(HealthSignal signal, CaptureMode mode, string tierTag)
    {
        private readonly ConcurrentDictionary<string, double> _cumulative = new(StringComparer.Ordinal);

        public void On(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? tier = null;
            foreach (var tag in tags)
            {
                if (string.Equals(tag.Key, tierTag, StringComparison.Ordinal))
                {
                    tier = tag.Value as string ?? Convert.ToString(tag.Value, CultureInfo.InvariantCulture);
                    break;
                }
            }

            switch (mode)
            {
                case CaptureMode.Distribution or CaptureMode.Level:
                    signal.Record(value, tier);
                    break;
                case CaptureMode.Delta:
                    AddDelta(value, tier);
                    break;
                case CaptureMode.Cumulative:
                    if (!double.IsFinite(value) || value < 0)
                    {
                        signal.AddRejectedIncrement();
                        break;
                    }

                    var key = tier ?? "";
                    if (_cumulative.TryGetValue(key, out var previous))
                    {
                        if (value < previous)
                        {
                            // The counter went backwards (a process restart or a reset): count it, take its value as the delta since the reset.
                            signal.AddCounterReset();
                            AddDelta(value, tier);
                        }
                        else
                        {
                            AddDelta(value - previous, tier);
                        }
                    }

                    _cumulative[key] = value;
                    break;
                default:
                    var sum = _cumulative.AddOrUpdate(tier ?? "", value, (_, s) => s + value);
                    signal.Record(sum, tier);
                    break;
            }
        }

        private void AddDelta(double value, string? tier)
        {
            if (!double.IsFinite(value) || value < 0)
            {
                signal.AddRejectedIncrement();
                return;
            }

            signal.Add((long)Math.Round(value), tier);
        }
    }
}

/// <summary>What a criterion is evaluated with.</summary>
internal sealed class EvaluationContext(ReleaseHealthMonitor monitor, ReleaseWindow window, DateTimeOffset now, DateTimeOffset deployedAt, WindowSnapshot? baseline)
{
    public ReleaseHealthMonitor Monitor { get; } = monitor;

    public ReleaseWindow Window { get; } = window;

    public DateTimeOffset Now { get; } = now;

    public DateTimeOffset DeployedAt { get; } = deployedAt;

    public WindowSnapshot? Baseline { get; } = baseline;

    public SignalAggregate? Current(string? signal, string? tier) =>
        Monitor.Find(signal)?.Aggregate(Window.Start, Window.End <= Now ? Window.End : Now.AddTicks(1), tier);

    public List<(DateTimeOffset Start, TimeSpan Width, SignalAggregate Aggregate)>? CurrentSlices(string? signal, string? tier) =>
        Monitor.Find(signal)?.SliceAggregates(Window.Start, Window.End <= Now ? Window.End : Now.AddTicks(1), tier);

    public SignalAggregate? BaselineOf(string? signal, string? tier) =>
        signal is null ? null : Baseline?.Find(signal, tier);
}
