using ReleaseKit.TenantContext.Internal;

namespace ReleaseKit.TenantContext;

/// <summary>
/// A test helper for applications: runs a piece of code under many tenants at once (each flow in its own tenant scope,
/// started with <see cref="Task.Run(Func{Task})"/>) and reports every flow that saw another tenant's id afterwards or
/// tripped the isolation guard.
/// </summary>
public static class TenantLeakDetector
{
    /// <summary>Runs <paramref name="body"/> once per flow, <paramref name="flowsPerTenant"/> flows per tenant, all concurrently.</summary>
    /// <param name="tenantIds">The tenants.</param>
    /// <param name="flowsPerTenant">How many concurrent flows each tenant gets (1 to 10,000).</param>
    /// <param name="body">The code under test; it receives the flow's tenant id. Throw <see cref="TenantIsolationException"/> (or call <see cref="TenantIsolation.EnsureSameTenant(string?)"/>) to report a leak it sees.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The report.</returns>
    public static async Task<TenantLeakReport> RunAsync(IEnumerable<string> tenantIds, int flowsPerTenant, Func<string, CancellationToken, Task> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tenantIds);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(flowsPerTenant, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(flowsPerTenant, 10_000);
        var tenants = tenantIds.ToArray();
        var leaks = new System.Collections.Concurrent.ConcurrentBag<TenantLeak>();
        var flows = new List<Task>(tenants.Length * flowsPerTenant);
        foreach (var tenant in tenants)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(tenant, nameof(tenantIds));
            for (var i = 0; i < flowsPerTenant; i++)
            {
                flows.Add(Task.Run(() => RunFlowAsync(tenant, body, leaks, cancellationToken), cancellationToken));
            }
        }

        await Task.WhenAll(flows).ConfigureAwait(false);
        return new TenantLeakReport(flows.Count, [.. leaks]);
    }

    private static async Task RunFlowAsync(string tenant, Func<string, CancellationToken, Task> body, System.Collections.Concurrent.ConcurrentBag<TenantLeak> leaks, CancellationToken cancellationToken)
    {
        using var scope = new TenantScope(tenant);
        try
        {
            await body(tenant, cancellationToken).ConfigureAwait(false);
        }
        catch (TenantIsolationException ex)
        {
            leaks.Add(new TenantLeak(tenant, ex.RowTenantId, ex.Message));
            return;
        }

        var observed = AmbientTenant.TenantId;
        if (!string.Equals(observed, tenant, StringComparison.Ordinal))
        {
            leaks.Add(new TenantLeak(tenant, observed, "the ambient tenant changed during the flow"));
        }
    }
}

/// <summary>The result of <see cref="TenantLeakDetector.RunAsync"/>.</summary>
/// <param name="Flows">How many flows ran.</param>
/// <param name="Leaks">The leaks seen.</param>
public sealed record TenantLeakReport(int Flows, IReadOnlyList<TenantLeak> Leaks)
{
    /// <summary>Gets whether any flow saw another tenant.</summary>
    public bool HasLeaks => Leaks.Count > 0;

    /// <inheritdoc />
    public override string ToString() => HasLeaks
        ? $"{Leaks.Count} of {Flows} flows leaked: {string.Join("; ", Leaks.Take(5))}{(Leaks.Count > 5 ? "; ..." : string.Empty)}"
        : $"No leaks in {Flows} flows.";
}

/// <summary>One flow that saw another tenant.</summary>
/// <param name="ExpectedTenantId">The flow's tenant.</param>
/// <param name="ObservedTenantId">The tenant it saw.</param>
/// <param name="Detail">Where or how.</param>
public sealed record TenantLeak(string ExpectedTenantId, string? ObservedTenantId, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => $"flow of '{ExpectedTenantId}' saw '{ObservedTenantId ?? "(none)"}' ({Detail})";
}
