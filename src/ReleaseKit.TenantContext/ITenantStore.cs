namespace ReleaseKit.TenantContext;

/// <summary>
/// Where tenant profiles come from. Register an implementation to load them from the application's own database or
/// directory; without one, the tenants in <see cref="TenantContextOptions.Tenants"/> are used. Results are cached by
/// <see cref="ITenantProfileProvider"/> for <see cref="TenantContextOptions.CacheDuration"/>.
/// </summary>
public interface ITenantStore
{
    /// <summary>Finds a tenant.</summary>
    /// <param name="tenantId">The tenant id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The profile, or <see langword="null"/> when the tenant does not exist.</returns>
    ValueTask<TenantProfile?> FindAsync(string tenantId, CancellationToken cancellationToken);

    /// <summary>Lists every tenant (used by the ring gates).</summary>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The profiles.</returns>
    ValueTask<IReadOnlyList<TenantProfile>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>Cached access to tenant profiles (from the registered <see cref="ITenantStore"/>, or the configured tenants).</summary>
public interface ITenantProfileProvider
{
    /// <summary>Finds a tenant's profile.</summary>
    /// <param name="tenantId">The tenant id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The profile, or <see langword="null"/> when the tenant is unknown.</returns>
    ValueTask<TenantProfile?> FindAsync(string tenantId, CancellationToken cancellationToken = default);

    /// <summary>Gets a tenant's profile.</summary>
    /// <param name="tenantId">The tenant id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="UnknownTenantException">The tenant is unknown.</exception>
    ValueTask<TenantProfile> GetAsync(string tenantId, CancellationToken cancellationToken = default);

    /// <summary>Lists every tenant.</summary>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The profiles.</returns>
    ValueTask<IReadOnlyList<TenantProfile>> ListAsync(CancellationToken cancellationToken = default);
}

/// <summary>Thrown when a tenant id names no tenant the store knows (a typo in a header, a deleted tenant, a forged id).</summary>
public sealed class UnknownTenantException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public UnknownTenantException()
        : base("The tenant is unknown.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public UnknownTenantException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public UnknownTenantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a tenant id, saying where it came from.</summary>
    /// <param name="tenantId">The unknown tenant id.</param>
    /// <param name="source">Where the id came from (for example <c>header 'X-Tenant-Id'</c>).</param>
    public UnknownTenantException(string tenantId, string? source)
        : base($"Tenant '{tenantId}'{(source is null ? string.Empty : $" (from {source})")} is not known to the tenant store; check the id, or add the tenant to TenantContextOptions.Tenants or the registered ITenantStore.")
    {
        TenantId = tenantId;
        TenantSource = source;
    }

    /// <summary>Gets the unknown tenant id.</summary>
    public string? TenantId { get; }

    /// <summary>Gets where the id came from.</summary>
    public string? TenantSource { get; }
}
