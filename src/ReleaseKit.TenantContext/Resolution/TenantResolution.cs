namespace ReleaseKit.TenantContext;

/// <summary>
/// What the resolver looks at, independent of the transport: fill what the request has (the HTTP middleware of the
/// hosting package fills it from <c>HttpContext</c>; a job runner from the job's payload).
/// </summary>
public sealed class TenantResolutionRequest
{
    /// <summary>Gets the request headers (use a case-insensitive dictionary for HTTP).</summary>
    public IReadOnlyDictionary<string, string?>? Headers { get; init; }

    /// <summary>Gets the host name the request was sent to (a port is ignored).</summary>
    public string? Host { get; init; }

    /// <summary>Gets the caller's claims, as type and value pairs.</summary>
    public IEnumerable<KeyValuePair<string, string>>? Claims { get; init; }

    /// <summary>Gets the route values.</summary>
    public IReadOnlyDictionary<string, string?>? RouteValues { get; init; }

    /// <summary>Gets a background job's payload fields.</summary>
    public IReadOnlyDictionary<string, string?>? JobPayload { get; init; }
}

/// <summary>A tenant the resolver found, with where it found it.</summary>
public sealed class ResolvedTenant
{
    internal ResolvedTenant(TenantProfile profile, string source)
    {
        Profile = profile;
        Source = source;
    }

    /// <summary>Gets the tenant's profile.</summary>
    public TenantProfile Profile { get; }

    /// <summary>Gets the source that named it (for example <c>Header 'X-Tenant-Id'</c>).</summary>
    public string Source { get; }

    /// <summary>Gets the tenant id.</summary>
    public string TenantId => Profile.Id;

    /// <inheritdoc />
    public override string ToString() => $"{Profile.Id} (from {Source})";
}

/// <summary>Finds the tenant of a request or job: tries the configured sources in order, then every registered <see cref="ITenantResolutionStrategy"/>.</summary>
public interface ITenantResolver
{
    /// <summary>Resolves the tenant.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The tenant, or <see langword="null"/> when no source names one (the missing-tenant policy then applies).</returns>
    /// <exception cref="UnknownTenantException">A source names a tenant the store does not know; the message says which source.</exception>
    ValueTask<ResolvedTenant?> ResolveAsync(TenantResolutionRequest request, CancellationToken cancellationToken = default);
}

/// <summary>An application-specific way to find a tenant id, tried after the configured <see cref="TenantContextOptions.Sources"/> in registration order.</summary>
public interface ITenantResolutionStrategy
{
    /// <summary>Gets the strategy's name, used in errors and telemetry.</summary>
    string Name { get; }

    /// <summary>Finds the tenant id of a request.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The tenant id, or <see langword="null"/> when this strategy does not apply.</returns>
    ValueTask<string?> GetTenantIdAsync(TenantResolutionRequest request, CancellationToken cancellationToken);
}
