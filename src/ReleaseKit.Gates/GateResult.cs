namespace ReleaseKit.Gates;

/// <summary>
/// The immutable result of evaluating one gate: a <see cref="Verdict"/>, a reason a person can read,
/// the <see cref="Evidence"/> behind it and how long the evaluation took.
/// </summary>
public sealed class GateResult
{
    private static readonly IReadOnlyList<Evidence> NoEvidence = [];

    private GateResult(Verdict verdict, string reason, IReadOnlyList<Evidence> evidence, TimeSpan duration, GateError? error)
    {
        Verdict = verdict;
        Reason = reason;
        Evidence = evidence;
        Duration = duration;
        Error = error;
    }

    /// <summary>Gets the verdict.</summary>
    public Verdict Verdict { get; }

    /// <summary>Gets why the gate decided as it did.</summary>
    public string Reason { get; }

    /// <summary>Gets the facts behind the verdict.</summary>
    public IReadOnlyList<Evidence> Evidence { get; }

    /// <summary>Gets how long the evaluation took (set by the runner; zero for a result not produced by it).</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets the error that made the gate fail, when it threw or timed out.</summary>
    public GateError? Error { get; }

    /// <summary>A passing result.</summary>
    /// <param name="reason">Why the gate passed.</param>
    /// <param name="evidence">The facts behind the verdict.</param>
    /// <returns>The result.</returns>
    public static GateResult Pass(string reason = "Passed.", params IEnumerable<Evidence> evidence) => Create(Verdict.Pass, reason, evidence);

    /// <summary>A passing result with a caveat.</summary>
    /// <param name="reason">The caveat.</param>
    /// <param name="evidence">The facts behind the verdict.</param>
    /// <returns>The result.</returns>
    public static GateResult Warn(string reason, params IEnumerable<Evidence> evidence) => Create(Verdict.Warn, reason, evidence);

    /// <summary>A result for a gate that could not decide. It blocks like a failure.</summary>
    /// <param name="reason">Why the gate could not decide.</param>
    /// <param name="evidence">The facts behind the verdict.</param>
    /// <returns>The result.</returns>
    public static GateResult Inconclusive(string reason, params IEnumerable<Evidence> evidence) => Create(Verdict.Inconclusive, reason, evidence);

    /// <summary>A failing result.</summary>
    /// <param name="reason">Why the gate failed.</param>
    /// <param name="evidence">The facts behind the verdict.</param>
    /// <returns>The result.</returns>
    public static GateResult Fail(string reason, params IEnumerable<Evidence> evidence) => Create(Verdict.Fail, reason, evidence);

    /// <summary>A result with the given verdict.</summary>
    /// <param name="verdict">The verdict.</param>
    /// <param name="reason">The reason.</param>
    /// <param name="evidence">The facts behind the verdict.</param>
    /// <returns>The result.</returns>
    public static GateResult Create(Verdict verdict, string reason, params IEnumerable<Evidence> evidence)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentNullException.ThrowIfNull(evidence);
        if (!Enum.IsDefined(verdict))
        {
            throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "Unknown verdict.");
        }

        var list = evidence as Evidence[] ?? [.. evidence];
        foreach (var item in list)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(evidence));
        }

        return new GateResult(verdict, reason, list.Length == 0 ? NoEvidence : list, TimeSpan.Zero, null);
    }

    /// <summary>A failing (or, where configured, inconclusive) result for a gate that threw.</summary>
    /// <param name="exception">The exception.</param>
    /// <param name="verdict">The verdict to report; never <see cref="Verdict.Pass"/>.</param>
    /// <returns>The result.</returns>
    public static GateResult FromException(Exception exception, Verdict verdict = Verdict.Fail)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (verdict.IsPassing())
        {
            throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "A gate that threw cannot pass.");
        }

        var error = new GateError(exception.GetType().FullName ?? exception.GetType().Name, exception.Message);
        return new GateResult(verdict, $"The gate threw {error.Type}: {error.Message}", NoEvidence, TimeSpan.Zero, error);
    }

    /// <summary>Returns a copy of this result with <see cref="Duration"/> set.</summary>
    /// <param name="duration">How long the evaluation took.</param>
    /// <returns>The copy.</returns>
    public GateResult WithDuration(TimeSpan duration) => new(Verdict, Reason, Evidence, duration, Error);

    internal GateResult WithVerdict(Verdict verdict, string reason) => new(verdict, reason, Evidence, Duration, Error);

    internal static GateResult Timeout(TimeSpan timeout, Verdict verdict, int attempts)
    {
        var error = new GateError("System.TimeoutException", $"The gate did not complete within {timeout}.");
        var reason = attempts > 1
            ? $"The gate did not complete within its timeout of {timeout} in any of {attempts} attempts."
            : $"The gate did not complete within its timeout of {timeout}.";
        return new GateResult(verdict, reason, [new Evidence("timeout", timeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), unit: "s")], TimeSpan.Zero, error);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Verdict}: {Reason}";
}

/// <summary>The exception a gate threw (or the timeout it hit), as plain text for reports.</summary>
/// <param name="Type">The exception's type name.</param>
/// <param name="Message">The exception's message.</param>
public sealed record GateError(string Type, string Message);
