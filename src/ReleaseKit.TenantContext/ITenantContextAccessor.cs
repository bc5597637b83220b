using ReleaseKit.TenantContext.Internal;

namespace ReleaseKit.TenantContext;

/// <summary>
/// The ambient tenant: which tenant the current asynchronous flow works for. It flows with the
/// <see cref="ExecutionContext"/> (awaits, <see cref="Task.Run(Action)"/>, timers created inside the flow) and never
/// leaks into another flow. Set it with <see cref="Begin(string)"/>; carry it into work that leaves the flow with
/// <see cref="Capture"/> and <see cref="TenantSnapshot.Restore"/>.
/// </summary>
public interface ITenantContextAccessor
{
    /// <summary>Gets the ambient tenant id, or <see langword="null"/> when none is set. Never applies the fallback tenant. Reading it does not allocate.</summary>
    string? CurrentTenantId { get; }

    /// <summary>
    /// Gets the ambient tenant id, applying the configured <see cref="TenantContextOptions.MissingTenant"/> policy when none is set:
    /// throws <see cref="TenantNotSetException"/>, or returns <see cref="TenantContextOptions.FallbackTenantId"/>. A missing tenant never means "all tenants".
    /// </summary>
    /// <returns>The tenant id.</returns>
    /// <exception cref="TenantNotSetException">No tenant is set and the policy is <see cref="MissingTenantBehavior.Throw"/>.</exception>
    string GetRequiredTenantId();

    /// <summary>Makes <paramref name="tenantId"/> the ambient tenant until the returned scope is disposed; scopes nest and restore the outer tenant.</summary>
    /// <param name="tenantId">The tenant id (not validated against the store here: resolve it with <see cref="ITenantResolver"/> first).</param>
    /// <returns>The scope; dispose it (<c>using var _ = tenants.Begin(id);</c>).</returns>
    TenantScope Begin(string tenantId);

    /// <summary>Captures the ambient tenant for work that leaves the current flow (a job payload, a channel message, a timer).</summary>
    /// <returns>The snapshot.</returns>
    TenantSnapshot Capture();
}

/// <summary>
/// A tenant scope returned by <see cref="ITenantContextAccessor.Begin(string)"/> or <see cref="TenantSnapshot.Restore"/>.
/// Disposing it restores the tenant that was ambient when it began. It is a struct: beginning a scope costs one
/// <see cref="AsyncLocal{T}"/> write (none when the tenant is already ambient), and ending it usually costs no write
/// at all: when nothing else changed the flow's <see cref="ExecutionContext"/> inside the scope, the context that was
/// current before the scope is restored as it was.
/// </summary>
public readonly struct TenantScope : IDisposable, IEquatable<TenantScope>
{
    private readonly string? _previous;
    private readonly string? _tenantId;
    private readonly ExecutionContext? _before;
    private readonly ExecutionContext? _after;
    private readonly bool _active;
    private readonly bool _begun; // false only for default(TenantScope), whose Dispose does nothing

    internal TenantScope(string? tenantId)
    {
        _begun = true;
        _previous = AmbientTenant.TenantId;
        _tenantId = tenantId;
        if (string.Equals(_previous, tenantId, StringComparison.Ordinal))
        {
            // Already ambient: nothing to set, nothing to restore.
            return;
        }

        _active = true;

        // ExecutionContext objects are immutable. If the flow still holds exactly the context this scope produced when
        // it ends, putting back the context from before is the same as writing the previous tenant again, without
        // allocating a third context. Capture returns null when flow is suppressed; then Dispose writes the value.
        _before = ExecutionContext.Capture();
        AmbientTenant.TenantId = tenantId;
        _after = _before is null ? null : ExecutionContext.Capture();
    }

    /// <summary>Gets the tenant id this scope made ambient (<see langword="null"/> for a scope that clears the tenant).</summary>
    public string? TenantId => _tenantId;

    /// <summary>Restores the tenant that was ambient when the scope began.</summary>
    public void Dispose()
    {
        if (!_active)
        {
            // The tenant was already ambient, so nothing was written; but if code inside the scope changed the tenant
            // and did not restore it, put it back (one read when nothing changed).
            if (_begun && !string.Equals(AmbientTenant.TenantId, _previous, StringComparison.Ordinal))
            {
                AmbientTenant.TenantId = _previous;
            }

            return;
        }

        if (_before is not null && ReferenceEquals(ExecutionContext.Capture(), _after))
        {
            ExecutionContext.Restore(_before);
        }
        else
        {
            // Something else changed the flow's context inside the scope (another AsyncLocal, or the scope ends in a
            // different flow): restore only the tenant and keep those changes.
            AmbientTenant.TenantId = _previous;
        }
    }

    /// <inheritdoc />
    public bool Equals(TenantScope other) =>
        _begun == other._begun && _active == other._active && string.Equals(_tenantId, other._tenantId, StringComparison.Ordinal) && string.Equals(_previous, other._previous, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is TenantScope other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_begun, _active, _tenantId, _previous);

    /// <summary>Compares two scopes.</summary>
    /// <param name="left">A scope.</param>
    /// <param name="right">Another scope.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(TenantScope left, TenantScope right) => left.Equals(right);

    /// <summary>Compares two scopes.</summary>
    /// <param name="left">A scope.</param>
    /// <param name="right">Another scope.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(TenantScope left, TenantScope right) => !left.Equals(right);
}

/// <summary>
/// The ambient tenant captured for work that leaves the current flow: put <see cref="TenantId"/> in a job payload, a
/// channel message or a journal entry, and call <see cref="Restore"/> where the work runs. A snapshot of "no tenant"
/// restores "no tenant" (it never widens to all tenants).
/// </summary>
/// <param name="TenantId">The captured tenant id, or <see langword="null"/> when none was set.</param>
public readonly record struct TenantSnapshot(string? TenantId)
{
    /// <summary>Gets whether a tenant was captured.</summary>
    public bool HasTenant => TenantId is not null;

    /// <summary>Captures the ambient tenant of the current flow.</summary>
    /// <returns>The snapshot.</returns>
    public static TenantSnapshot Capture() => new(AmbientTenant.TenantId);

    /// <summary>Makes the captured tenant ambient (or clears the tenant, for an empty snapshot) until the scope is disposed.</summary>
    /// <returns>The scope.</returns>
    public TenantScope Restore() => new(TenantId);

    /// <summary>Runs <paramref name="work"/> with the captured tenant ambient.</summary>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Passed to <paramref name="work"/>.</param>
    /// <returns>The work's task.</returns>
    public async Task RunAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var scope = Restore();
        await work(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Thrown when code asks for the tenant and none is set (and no fallback tenant is configured).</summary>
public sealed class TenantNotSetException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public TenantNotSetException()
        : base("No tenant is set for the current flow. Begin a tenant scope (ITenantContextAccessor.Begin, or TenantSnapshot.Restore in background work), or configure TenantContextOptions.MissingTenant = UseFallback with a FallbackTenantId.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public TenantNotSetException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TenantNotSetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
