using System.Globalization;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement.FeatureFilters;
using ReleaseKit.TenantContext.Internal;

namespace ReleaseKit.TenantContext;

/// <summary>The FeatureManagement targeting groups a tenant belongs to: <c>ring:&lt;n&gt;</c>, <c>tier:&lt;tier&gt;</c> and <c>region:&lt;region&gt;</c>.</summary>
public static class TenantTargetingGroups
{
    /// <summary>The prefix of the ring group (<c>ring:0</c> is the canary ring).</summary>
    public const string RingPrefix = "ring:";

    /// <summary>The prefix of the tier group (<c>tier:DedicatedDatabase</c>).</summary>
    public const string TierPrefix = "tier:";

    /// <summary>The prefix of the region group (<c>region:eu-west</c>).</summary>
    public const string RegionPrefix = "region:";

    /// <summary>Builds the targeting context of a tenant: the tenant id as the targeting id, and its ring, tier and region groups.</summary>
    /// <param name="profile">The tenant.</param>
    /// <returns>The targeting context.</returns>
    public static TargetingContext CreateTargetingContext(TenantProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var groups = new List<string>(3)
        {
            RingPrefix + profile.Ring.ToString(CultureInfo.InvariantCulture),
            TierPrefix + profile.Tier.ToString(),
        };
        if (!string.IsNullOrWhiteSpace(profile.Region))
        {
            groups.Add(RegionPrefix + profile.Region);
        }

        return new TargetingContext { UserId = profile.Id, Groups = groups };
    }

    /// <summary>Finds the ring in a targeting context's groups.</summary>
    /// <param name="groups">The groups.</param>
    /// <param name="ring">The ring.</param>
    /// <returns><see langword="true"/> when a <c>ring:&lt;n&gt;</c> group is present.</returns>
    public static bool TryGetRing(IEnumerable<string>? groups, out int ring)
    {
        if (groups is not null)
        {
            foreach (var group in groups)
            {
                if (group is not null && group.StartsWith(RingPrefix, StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(group.AsSpan(RingPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out ring))
                {
                    return true;
                }
            }
        }

        ring = -1;
        return false;
    }
}

/// <summary>FeatureManagement's targeting context from the ambient tenant (cached per tenant for the profile cache's lifetime).</summary>
internal sealed class TenantTargetingContextAccessor(ITenantContextAccessor tenants, ITenantProfileProvider profiles, IOptions<TenantContextOptions> options, TimeProvider timeProvider) : ITargetingContextAccessor
{
    private readonly BoundedCache<string, TargetingContext> _contexts = new(options.Value.CacheDuration, options.Value.MaxCacheEntries, timeProvider, StringComparer.OrdinalIgnoreCase);

    public ValueTask<TargetingContext> GetContextAsync()
    {
        var tenantId = tenants.GetRequiredTenantId();
        return _contexts.TryGet(tenantId, out var context) ? ValueTask.FromResult(context) : LoadAsync(tenantId);
    }

    private async ValueTask<TargetingContext> LoadAsync(string tenantId)
    {
        var profile = await profiles.FindAsync(tenantId).ConfigureAwait(false) ?? throw new UnknownTenantException(tenantId, "the ambient tenant");
        var context = TenantTargetingGroups.CreateTargetingContext(profile);
        _contexts.Set(tenantId, context);
        return context;
    }
}
