namespace ReleaseKit.Gates;

/// <summary>
/// A release-readiness check. Implementations are resolved from the service provider for every run
/// (register them with <c>services.AddReleaseKit().AddGates().AddGate&lt;T&gt;(name)</c>).
/// </summary>
/// <remarks>
/// Return <see cref="GateResult.Inconclusive(string, IEnumerable{Evidence})"/> when the gate cannot decide; never
/// <see cref="Verdict.Pass"/>. Honour the cancellation token: the runner cancels it when the gate's timeout
/// expires (and reports the gate as failed whether or not it stops).
/// </remarks>
public interface IReleaseGate
{
    /// <summary>Evaluates the gate.</summary>
    /// <param name="context">The release, environment, stage and services the gate runs with.</param>
    /// <param name="cancellationToken">Cancelled when the gate times out or the run is cancelled.</param>
    /// <returns>The result.</returns>
    ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken);
}

/// <summary>What a gate is evaluated with.</summary>
public sealed class GateContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="gateName">The registered name of the gate being evaluated.</param>
    /// <param name="manifest">The release manifest.</param>
    /// <param name="environmentName">The environment the release is in or is promoted to (for example <c>production</c>).</param>
    /// <param name="stage">The stage being run.</param>
    /// <param name="services">The service provider of the run's scope.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="cancellationToken">Cancelled when the gate times out or the run is cancelled.</param>
    public GateContext(string gateName, ReleaseManifest manifest, string environmentName, GateStage stage, IServiceProvider services, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(gateName);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentException.ThrowIfNullOrWhiteSpace(environmentName);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(timeProvider);
        GateName = gateName;
        Manifest = manifest;
        EnvironmentName = environmentName;
        Stage = stage;
        Services = services;
        TimeProvider = timeProvider;
        CancellationToken = cancellationToken;
    }

    /// <summary>Gets the registered name of the gate being evaluated.</summary>
    public string GateName { get; }

    /// <summary>Gets the release manifest.</summary>
    public ReleaseManifest Manifest { get; }

    /// <summary>Gets the environment name.</summary>
    public string EnvironmentName { get; }

    /// <summary>Gets the stage being run.</summary>
    public GateStage Stage { get; }

    /// <summary>Gets the service provider of the run's scope.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Gets the clock gates must use instead of the wall clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Gets the token cancelled when the gate times out or the run is cancelled.</summary>
    public CancellationToken CancellationToken { get; }
}
