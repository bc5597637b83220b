namespace ReleaseKit.Gates;

/// <summary>One gate's outcome in a round: the raw result and the verdict after the severity mapping.</summary>
public sealed class GateEntry
{
    internal GateEntry(ReleaseGateRegistration registration, GateStage stage, GateResult result, int attempts)
    {
        Name = registration.Name;
        Stage = stage;
        Severity = registration.Severity;
        DryRun = registration.DryRun;
        Tags = registration.SortedTags;
        Result = result;
        Attempts = attempts;
        Verdict = Severity == GateSeverity.Advisory && result.Verdict > Verdict.Warn ? Verdict.Warn : result.Verdict;
    }

    /// <summary>Creates an entry (for reports built outside the runner, and for tests).</summary>
    /// <param name="name">The gate's name.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="result">The result.</param>
    /// <param name="severity">The severity.</param>
    /// <param name="dryRun">Whether the gate ran in dry-run mode.</param>
    /// <param name="tags">The gate's tags.</param>
    /// <param name="attempts">How many attempts the evaluation took.</param>
    public GateEntry(string name, GateStage stage, GateResult result, GateSeverity severity = GateSeverity.Blocking, bool dryRun = false, IReadOnlyList<string>? tags = null, int attempts = 1)
        : this(CreateRegistration(name, severity, dryRun, tags), stage, result ?? throw new ArgumentNullException(nameof(result)), attempts)
    {
    }

    /// <summary>Gets the gate's name.</summary>
    public string Name { get; }

    /// <summary>Gets the stage the gate ran in.</summary>
    public GateStage Stage { get; }

    /// <summary>Gets the gate's severity.</summary>
    public GateSeverity Severity { get; }

    /// <summary>Gets whether the gate ran in dry-run mode (reported, never counted).</summary>
    public bool DryRun { get; }

    /// <summary>Gets the gate's tags.</summary>
    public IReadOnlyList<string> Tags { get; }

    /// <summary>Gets what the gate returned (or the failure the runner recorded for it).</summary>
    public GateResult Result { get; }

    /// <summary>Gets the verdict after the severity mapping: an advisory gate's Fail or Inconclusive is reported as <see cref="Verdict.Warn"/>.</summary>
    public Verdict Verdict { get; }

    /// <summary>Gets how many attempts the evaluation took (more than one for a retried transient gate).</summary>
    public int Attempts { get; }

    /// <summary>Gets whether this entry counts toward the run's verdict (it does unless <see cref="DryRun"/>).</summary>
    public bool CountsTowardVerdict => !DryRun;

    /// <summary>Gets whether this entry is a blocking gate that did not pass.</summary>
    public bool IsBlocking => CountsTowardVerdict && !Verdict.IsPassing();

    private static ReleaseGateRegistration CreateRegistration(string name, GateSeverity severity, bool dryRun, IReadOnlyList<string>? tags)
    {
        var registration = new ReleaseGateRegistration(name, static _ => throw new NotSupportedException()) { Severity = severity, DryRun = dryRun };
        registration.WithTags(tags ?? []);
        return registration;
    }
}

/// <summary>One evaluation of every selected gate.</summary>
public sealed class GateRound
{
    /// <summary>Creates a round.</summary>
    /// <param name="number">The round's number, from 1.</param>
    /// <param name="startedAt">When the round started.</param>
    /// <param name="duration">How long it took.</param>
    /// <param name="entries">The gates' outcomes.</param>
    public GateRound(int number, DateTimeOffset startedAt, TimeSpan duration, IReadOnlyList<GateEntry> entries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        ArgumentNullException.ThrowIfNull(entries);
        Number = number;
        StartedAt = startedAt;
        Duration = duration;
        Entries = entries;
        var any = false;
        var worst = Verdict.Pass;
        foreach (var entry in entries)
        {
            if (entry.CountsTowardVerdict)
            {
                any = true;
                worst = worst.Combine(entry.Verdict);
            }
        }

        Verdict = any ? worst : Verdict.Inconclusive;
    }

    /// <summary>Gets the round's number, from 1.</summary>
    public int Number { get; }

    /// <summary>Gets when the round started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Gets how long the round took.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets each gate's outcome.</summary>
    public IReadOnlyList<GateEntry> Entries { get; }

    /// <summary>Gets the worst verdict of the counted entries (<see cref="Verdict.Inconclusive"/> when none counted).</summary>
    public Verdict Verdict { get; }
}

/// <summary>The result of a gate run: the verdict, every gate's outcome, and every round when sampled.</summary>
public sealed class GateReport
{
    /// <summary>Creates a report.</summary>
    /// <param name="manifest">The release the gates ran for.</param>
    /// <param name="environmentName">The environment.</param>
    /// <param name="stages">The stages run.</param>
    /// <param name="rounds">The rounds, at least one; the last decides.</param>
    /// <param name="startedAt">When the run started.</param>
    /// <param name="completedAt">When it ended.</param>
    /// <param name="verdict">The run's verdict.</param>
    /// <param name="summary">One sentence on why.</param>
    /// <param name="sampled">Whether the run used sampling mode.</param>
    public GateReport(ReleaseManifest manifest, string environmentName, IReadOnlyList<GateStage> stages, IReadOnlyList<GateRound> rounds, DateTimeOffset startedAt, DateTimeOffset completedAt, Verdict verdict, string summary, bool sampled)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(rounds);
        ArgumentException.ThrowIfNullOrWhiteSpace(environmentName);
        ArgumentException.ThrowIfNullOrWhiteSpace(summary);
        if (rounds.Count == 0)
        {
            throw new ArgumentException("A report has at least one round.", nameof(rounds));
        }

        Manifest = manifest;
        EnvironmentName = environmentName;
        Stages = stages;
        Rounds = rounds;
        StartedAt = startedAt;
        CompletedAt = completedAt;
        Verdict = verdict;
        Summary = summary;
        Sampled = sampled;
    }

    /// <summary>Gets the release the gates ran for.</summary>
    public ReleaseManifest Manifest { get; }

    /// <summary>Gets the environment.</summary>
    public string EnvironmentName { get; }

    /// <summary>Gets the stages run.</summary>
    public IReadOnlyList<GateStage> Stages { get; }

    /// <summary>Gets every round (one unless sampled).</summary>
    public IReadOnlyList<GateRound> Rounds { get; }

    /// <summary>Gets the last round's entries: the outcome that decided the run.</summary>
    public IReadOnlyList<GateEntry> Entries => Rounds[^1].Entries;

    /// <summary>Gets when the run started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Gets when the run ended.</summary>
    public DateTimeOffset CompletedAt { get; }

    /// <summary>Gets how long the run took.</summary>
    public TimeSpan Duration => CompletedAt - StartedAt;

    /// <summary>Gets the run's verdict.</summary>
    public Verdict Verdict { get; }

    /// <summary>Gets one sentence on why the run ended with its verdict.</summary>
    public string Summary { get; }

    /// <summary>Gets whether the run used sampling mode.</summary>
    public bool Sampled { get; }

    /// <summary>Gets the process exit code for this report: 0 when the release may proceed (Pass or Warn), 1 otherwise.</summary>
    public int ExitCode => Verdict.IsPassing() ? 0 : 1;
}
