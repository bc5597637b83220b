using System.Globalization;

namespace ReleaseKit.Gates;

/// <summary>
/// A named fact attached to a <see cref="GateResult"/> so a report explains itself: what was observed,
/// against which threshold, in which unit, from which source.
/// </summary>
/// <remarks>
/// Values are stored as invariant-culture strings so every report format renders them the same way.
/// Evidence marked <see cref="IsSensitive"/> is redacted in every report; values that look like
/// passwords, tokens or connection-string credentials are redacted too.
/// </remarks>
public sealed class Evidence
{
    /// <summary>Creates evidence.</summary>
    /// <param name="name">The fact's name, for example <c>p99_latency</c> or <c>approvers</c>.</param>
    /// <param name="observed">The observed value.</param>
    /// <param name="threshold">The threshold or expected value it was compared with, if any.</param>
    /// <param name="unit">The unit of <paramref name="observed"/> and <paramref name="threshold"/>, if any.</param>
    /// <param name="source">Where the value came from (a file, a query, a metric name), if useful.</param>
    /// <param name="isSensitive">Whether the value must be redacted in reports.</param>
    public Evidence(string name, string? observed, string? threshold = null, string? unit = null, string? source = null, bool isSensitive = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Observed = observed;
        Threshold = threshold;
        Unit = unit;
        Source = source;
        IsSensitive = isSensitive;
    }

    /// <summary>Gets the fact's name.</summary>
    public string Name { get; }

    /// <summary>Gets the observed value.</summary>
    public string? Observed { get; }

    /// <summary>Gets the threshold or expected value, if any.</summary>
    public string? Threshold { get; }

    /// <summary>Gets the unit, if any.</summary>
    public string? Unit { get; }

    /// <summary>Gets the source of the value, if any.</summary>
    public string? Source { get; }

    /// <summary>Gets whether the value is a secret that reports must redact.</summary>
    public bool IsSensitive { get; }

    /// <summary>Creates evidence for a number, formatted with the invariant culture.</summary>
    /// <param name="name">The fact's name.</param>
    /// <param name="observed">The observed value.</param>
    /// <param name="threshold">The threshold, if any.</param>
    /// <param name="unit">The unit, if any.</param>
    /// <param name="source">The source, if any.</param>
    /// <returns>The evidence.</returns>
    public static Evidence Of(string name, double observed, double? threshold = null, string? unit = null, string? source = null) =>
        new(name, Format(observed), threshold is { } t ? Format(t) : null, unit, source);

    /// <summary>Creates evidence for a count.</summary>
    /// <param name="name">The fact's name.</param>
    /// <param name="observed">The observed count.</param>
    /// <param name="threshold">The threshold, if any.</param>
    /// <param name="unit">The unit, if any.</param>
    /// <param name="source">The source, if any.</param>
    /// <returns>The evidence.</returns>
    public static Evidence Of(string name, long observed, long? threshold = null, string? unit = null, string? source = null) =>
        new(name, observed.ToString(CultureInfo.InvariantCulture), threshold?.ToString(CultureInfo.InvariantCulture), unit, source);

    /// <summary>Creates evidence for text.</summary>
    /// <param name="name">The fact's name.</param>
    /// <param name="observed">The observed text.</param>
    /// <param name="threshold">The expected text, if any.</param>
    /// <param name="source">The source, if any.</param>
    /// <returns>The evidence.</returns>
    public static Evidence Of(string name, string? observed, string? threshold = null, string? source = null) =>
        new(name, observed, threshold, unit: null, source);

    /// <summary>Creates evidence whose value is a secret: reports show the name and <c>***</c>.</summary>
    /// <param name="name">The fact's name.</param>
    /// <param name="value">The secret value.</param>
    /// <param name="source">The source, if any.</param>
    /// <returns>The evidence.</returns>
    public static Evidence Secret(string name, string? value, string? source = null) =>
        new(name, value, threshold: null, unit: null, source, isSensitive: true);

    /// <inheritdoc />
    public override string ToString() =>
        Threshold is null ? $"{Name}={Observed}{Unit}" : $"{Name}={Observed}{Unit} (threshold {Threshold}{Unit})";

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
