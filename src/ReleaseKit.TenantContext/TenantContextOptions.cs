using ReleaseKit.Gates;

namespace ReleaseKit.TenantContext;

/// <summary>What <see cref="ITenantContextAccessor.GetRequiredTenantId"/> does when no tenant is set.</summary>
public enum MissingTenantBehavior
{
    /// <summary>Throw <see cref="TenantNotSetException"/> (the default).</summary>
    Throw = 0,

    /// <summary>Use the named <see cref="TenantContextOptions.FallbackTenantId"/> (one real tenant, never "all tenants").</summary>
    UseFallback = 1,
}

/// <summary>Options of the tenant context: the missing-tenant policy, the tenants (when no <see cref="ITenantStore"/> is registered), caching and resolution.</summary>
public sealed class TenantContextOptions
{
    /// <summary>Gets or sets what happens when code asks for the tenant and none is set. Default <see cref="MissingTenantBehavior.Throw"/>.</summary>
    public MissingTenantBehavior MissingTenant { get; set; } = MissingTenantBehavior.Throw;

    /// <summary>Gets or sets the tenant used when none is set and <see cref="MissingTenant"/> is <see cref="MissingTenantBehavior.UseFallback"/>. It must be one of <see cref="Tenants"/> when those are configured.</summary>
    public string? FallbackTenantId { get; set; }

    /// <summary>Gets the tenants, used by the built-in store when the application registers no <see cref="ITenantStore"/>.</summary>
    public IList<TenantOptions> Tenants { get; } = [];

    /// <summary>Gets or sets how long a tenant profile (and a resolution result) is cached. More than zero, at most one day. Default 5 minutes.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the largest number of cached profiles and resolution results; the cache is emptied when it would grow beyond it. 1 to 1,000,000. Default 10,000.</summary>
    public int MaxCacheEntries { get; set; } = 10_000;

    /// <summary>Gets the sources the resolver tries, in order.</summary>
    public IList<TenantSourceOptions> Sources { get; } = [];

    /// <summary>Adds a tenant.</summary>
    /// <param name="id">The tenant id.</param>
    /// <param name="configure">Configures tier, region, ring and change windows.</param>
    /// <returns>These options.</returns>
    public TenantContextOptions AddTenant(string id, Action<TenantOptions>? configure = null)
    {
        var tenant = new TenantOptions { Id = id };
        configure?.Invoke(tenant);
        Tenants.Add(tenant);
        return this;
    }

    /// <summary>Adds a resolution source (tried after those added before).</summary>
    /// <param name="kind">The kind of source.</param>
    /// <param name="name">The header name, claim type, route value or payload key; for <see cref="TenantSourceKind.Host"/> an optional domain suffix (<c>.example.com</c>).</param>
    /// <returns>These options.</returns>
    public TenantContextOptions ResolveFrom(TenantSourceKind kind, string? name = null)
    {
        Sources.Add(new TenantSourceOptions { Kind = kind, Name = name });
        return this;
    }
}

/// <summary>One tenant in <see cref="TenantContextOptions.Tenants"/> (bindable from configuration).</summary>
public sealed class TenantOptions
{
    /// <summary>Gets or sets the tenant id. Required, unique (case-insensitive).</summary>
    public string? Id { get; set; }

    /// <summary>Gets or sets the display name.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Gets or sets the tier: <c>Shared</c> (default), <c>Pooled</c>, <c>DedicatedDatabase</c> or <c>Regional</c>.</summary>
    public string Tier { get; set; } = nameof(TenantTier.Shared);

    /// <summary>Gets or sets the region (required for the <c>Regional</c> tier).</summary>
    public string? Region { get; set; }

    /// <summary>Gets or sets the rollout ring, 0 (canary) to 100.</summary>
    public int Ring { get; set; }

    /// <summary>Gets or sets whether the tenant is strategic.</summary>
    public bool IsStrategic { get; set; }

    /// <summary>Gets or sets how long the previous ring must have been healthy before a release reaches this tenant (at most 30 days).</summary>
    public TimeSpan? RequiredPreviousRingHealthyFor { get; set; }

    /// <summary>Gets the host names that belong to this tenant (custom domains), matched by the <see cref="TenantSourceKind.Host"/> source.</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets the tenant's change-window calendar (time zone, weekend days, holidays, allow and deny windows); <see langword="null"/> for none. Its override is ignored.</summary>
    public ReleaseWindowOptions? ChangeWindows { get; set; }

    /// <summary>
    /// Gets the tenant's holidays, added to <see cref="ChangeWindows"/>' calendar. Use this list from configuration:
    /// <see cref="ReleaseWindowOptions.Holidays"/> is a get-only set that the configuration binder does not fill.
    /// </summary>
    public IList<DateOnly> Holidays { get; } = [];

    /// <summary>Gets or sets a configuration-friendly month-end freeze: a deny window named <c>month-end close</c> over the last N business days of the month (1 to 31). Requires <see cref="ChangeWindows"/> with a time zone.</summary>
    public int? MonthEndFreezeBusinessDays { get; set; }

    /// <summary>Adds a deny window to the tenant's change windows, creating them in <paramref name="timeZoneId"/> when needed.</summary>
    /// <param name="name">The window's name, shown in gate evidence.</param>
    /// <param name="rule">The rule.</param>
    /// <param name="timeZoneId">The tenant's time zone, used when no change windows exist yet.</param>
    /// <returns>These options.</returns>
    public TenantOptions Freeze(string name, WindowRule rule, string timeZoneId = "UTC")
    {
        (ChangeWindows ??= new ReleaseWindowOptions { TimeZoneId = timeZoneId }).Deny(name, rule);
        return this;
    }
}

/// <summary>Where the resolver looks for a tenant id.</summary>
public enum TenantSourceKind
{
    /// <summary>A request header (<see cref="TenantSourceOptions.Name"/> is the header name).</summary>
    Header = 0,

    /// <summary>The host name: a tenant's listed <see cref="TenantOptions.Hosts"/>, else the label before the domain suffix in <see cref="TenantSourceOptions.Name"/>.</summary>
    Host = 1,

    /// <summary>A claim of the caller (<see cref="TenantSourceOptions.Name"/> is the claim type).</summary>
    Claim = 2,

    /// <summary>A route value (<see cref="TenantSourceOptions.Name"/> is the route key).</summary>
    RouteValue = 3,

    /// <summary>A background job's payload (<see cref="TenantSourceOptions.Name"/> is the payload key).</summary>
    JobPayload = 4,
}

/// <summary>One resolution source.</summary>
public sealed class TenantSourceOptions
{
    /// <summary>Gets or sets the kind of source.</summary>
    public TenantSourceKind Kind { get; set; }

    /// <summary>Gets or sets the header name, claim type, route key or payload key (required for all but <see cref="TenantSourceKind.Host"/>).</summary>
    public string? Name { get; set; }

    /// <inheritdoc />
    public override string ToString() => Name is null ? Kind.ToString() : $"{Kind} '{Name}'";
}
