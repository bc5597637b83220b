namespace ReleaseKit.HealthCriteria;

/// <summary>
/// One point of a criterion's time series: the statistic the criterion judges, measured over one time slice of the
/// window (a rate, a quantile, a burn rate; a counter's total so far for <see cref="HealthStatistic.Total"/>).
/// </summary>
/// <param name="Start">The slice's start.</param>
/// <param name="Width">The slice's width (the configured slice width, or an hour once slices are compacted).</param>
/// <param name="Value">The statistic over the slice.</param>
/// <param name="SampleSize">The values, or denominator events, in the slice.</param>
public sealed record HealthSeriesPoint(DateTimeOffset Start, TimeSpan Width, double Value, long SampleSize);
