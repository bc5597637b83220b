namespace ReleaseKit.Gates;

/// <summary>What to run: which release, where, which stages and gates, once or sampled.</summary>
public sealed class GateRunRequest
{
    /// <summary>Gets the release manifest the gates see.</summary>
    public required ReleaseManifest Manifest { get; init; }

    /// <summary>Gets the environment name (for example <c>staging</c> or <c>production</c>).</summary>
    public required string EnvironmentName { get; init; }

    /// <summary>Gets the stages to run, in order. Defaults to <see cref="GateStage.Promotion"/>.</summary>
    public IReadOnlyList<GateStage> Stages { get; init; } = [GateStage.Promotion];

    /// <summary>Gets the tags to select gates by (a gate runs when it has any of them); all gates when empty.</summary>
    public IReadOnlyCollection<string> Tags { get; init; } = [];

    /// <summary>Gets the names of the gates to run; all gates when empty. An unknown name is an error.</summary>
    public IReadOnlyCollection<string> GateNames { get; init; } = [];

    /// <summary>Gets the sampling settings; when <see langword="null"/> the gates are evaluated once.</summary>
    public GateSamplingOptions? Sampling { get; init; }
}

/// <summary>
/// Sampling mode: evaluate every <see cref="Interval"/> until all blocking gates pass in the same round and have
/// stayed so for <see cref="MinimumSteadyDuration"/>, or <see cref="Timeout"/> expires.
/// </summary>
public sealed class GateSamplingOptions
{
    /// <summary>Gets the time between rounds. Default 5 minutes.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets how long all blocking gates must keep passing before the run succeeds. Default zero: the first all-pass round ends the run.</summary>
    public TimeSpan MinimumSteadyDuration { get; init; } = TimeSpan.Zero;

    /// <summary>Gets how long to keep sampling before giving up. Default 1 hour.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);

    internal void Validate()
    {
        if (Interval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Sampling Interval is {Interval}; it must be greater than zero.", "Sampling");
        }

        if (MinimumSteadyDuration < TimeSpan.Zero)
        {
            throw new ArgumentException($"Sampling MinimumSteadyDuration is {MinimumSteadyDuration}; it must not be negative.", "Sampling");
        }

        if (Timeout <= TimeSpan.Zero || Timeout < MinimumSteadyDuration)
        {
            throw new ArgumentException($"Sampling Timeout is {Timeout}; it must be greater than zero and at least MinimumSteadyDuration ({MinimumSteadyDuration}).", "Sampling");
        }
    }
}
