namespace ReleaseKit.Gates;

/// <summary>
/// How one gate is registered: its name, how to create it, when it runs and how its outcome counts.
/// Configure it in the callback of <c>AddGate</c>.
/// </summary>
public sealed class ReleaseGateRegistration
{
    private readonly Func<IServiceProvider, IReleaseGate> _factory;
    private string[]? _sortedTags;

    /// <summary>Creates a registration.</summary>
    /// <param name="name">A unique name (letters, digits, '.', '-', '_'); reports and telemetry use it.</param>
    /// <param name="factory">Creates the gate from the run's scoped service provider.</param>
    public ReleaseGateRegistration(string name, Func<IServiceProvider, IReleaseGate> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Name = name;
        _factory = factory;
    }

    /// <summary>Gets the gate's unique name.</summary>
    public string Name { get; }

    /// <summary>Gets the tags used to select gates for a run (for example <c>billing</c>, <c>schema</c>).</summary>
    public ISet<string> Tags { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the stages the gate runs in. Defaults to <see cref="GateStage.Promotion"/> when left empty.</summary>
    public ISet<GateStage> Stages { get; } = new HashSet<GateStage>();

    /// <summary>Gets or sets how long one evaluation may take before it is abandoned and reported with <see cref="TimeoutVerdict"/>. Default 30 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the verdict of a timed-out evaluation: <see cref="Verdict.Fail"/> (default) or <see cref="Verdict.Inconclusive"/>.</summary>
    public Verdict TimeoutVerdict { get; set; } = Verdict.Fail;

    /// <summary>Gets or sets whether a failure blocks the release (<see cref="GateSeverity.Blocking"/>, default) or is reported as a warning.</summary>
    public GateSeverity Severity { get; set; } = GateSeverity.Blocking;

    /// <summary>Gets or sets whether the gate is evaluated and reported but never affects the run's verdict.</summary>
    public bool DryRun { get; set; }

    /// <summary>
    /// Gets or sets whether the gate's errors are transient (a flaky dependency): an evaluation that throws or
    /// times out is retried up to <see cref="RetryAttempts"/> times. A returned verdict is never retried.
    /// </summary>
    public bool IsTransient { get; set; }

    /// <summary>Gets or sets how many times a transient gate is retried. Default 2.</summary>
    public int RetryAttempts { get; set; } = 2;

    /// <summary>Gets or sets the first retry delay of a transient gate; later retries back off exponentially with jitter. Default 1 second.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Adds tags.</summary>
    /// <param name="tags">The tags.</param>
    /// <returns>This registration.</returns>
    public ReleaseGateRegistration WithTags(params IEnumerable<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        foreach (var tag in tags)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(tag, nameof(tags));
            Tags.Add(tag);
        }

        return this;
    }

    /// <summary>Sets the stages the gate runs in, replacing any set before.</summary>
    /// <param name="stages">The stages.</param>
    /// <returns>This registration.</returns>
    public ReleaseGateRegistration InStages(params IEnumerable<GateStage> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        Stages.Clear();
        foreach (var stage in stages)
        {
            Stages.Add(stage);
        }

        return this;
    }

    // Reports list tags sorted; computed once per set of tags, not per evaluation.
    internal IReadOnlyList<string> SortedTags
    {
        get
        {
            var cached = _sortedTags;
            if (cached is null || cached.Length != Tags.Count || !ContainsAll(Tags, cached))
            {
                cached = _sortedTags = [.. Tags.Order(StringComparer.OrdinalIgnoreCase)];
            }

            return cached;
        }
    }

    private static bool ContainsAll(ISet<string> set, string[] items)
    {
        foreach (var item in items)
        {
            if (!set.Contains(item))
            {
                return false;
            }
        }

        return true;
    }

    internal IReleaseGate Create(IServiceProvider services) =>
        _factory(services) ?? throw new InvalidOperationException($"The factory of gate '{Name}' returned null.");

    internal bool RunsIn(GateStage stage) => Stages.Count == 0 ? stage == GateStage.Promotion : Stages.Contains(stage);
}

/// <summary>The gates registered with <c>AddGates()</c>.</summary>
public sealed class ReleaseGatesOptions
{
    /// <summary>Gets the registrations, in the order they were added.</summary>
    public IList<ReleaseGateRegistration> Registrations { get; } = [];
}
