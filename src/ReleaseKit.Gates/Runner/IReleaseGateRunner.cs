namespace ReleaseKit.Gates;

/// <summary>Runs the registered gates and produces a <see cref="GateReport"/>.</summary>
public interface IReleaseGateRunner
{
    /// <summary>
    /// Evaluates the selected gates in parallel, each with its timeout (and retries when transient), once or in
    /// sampling mode. A gate that throws or times out is never a pass.
    /// </summary>
    /// <param name="request">What to run.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">The request names an unknown gate or has invalid sampling settings.</exception>
    Task<GateReport> RunAsync(GateRunRequest request, CancellationToken cancellationToken = default);
}
