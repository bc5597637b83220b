using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ReleaseKit.TenantContext.Internal;

/// <summary>Caches the store's profiles (and its answer "unknown") for <see cref="TenantContextOptions.CacheDuration"/>, bounded by <see cref="TenantContextOptions.MaxCacheEntries"/>.</summary>
internal sealed class TenantProfileCache(ITenantStore store, IOptions<TenantContextOptions> options, TimeProvider timeProvider) : ITenantProfileProvider
{
    private readonly BoundedCache<string, TenantProfile?> _profiles = new(options.Value.CacheDuration, options.Value.MaxCacheEntries, timeProvider, StringComparer.OrdinalIgnoreCase);
    private volatile ListEntry? _list;

    public async ValueTask<TenantProfile?> FindAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        if (_profiles.TryGet(tenantId, out var cached))
        {
            return cached;
        }

        var profile = await store.FindAsync(tenantId, cancellationToken).ConfigureAwait(false);
        if (profile is not null && !string.Equals(profile.Id, tenantId, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The tenant store returned tenant '{profile.Id}' when asked for '{tenantId}'.");
        }

        _profiles.Set(tenantId, profile);
        return profile;
    }

    public async ValueTask<TenantProfile> GetAsync(string tenantId, CancellationToken cancellationToken = default) =>
        await FindAsync(tenantId, cancellationToken).ConfigureAwait(false) ?? throw new UnknownTenantException(tenantId, source: null);

    public async ValueTask<IReadOnlyList<TenantProfile>> ListAsync(CancellationToken cancellationToken = default)
    {
        var now = timeProvider.GetUtcNow();
        if (_list is { } entry && entry.Expires > now)
        {
            return entry.Profiles;
        }

        var profiles = await store.ListAsync(cancellationToken).ConfigureAwait(false);
        _list = new ListEntry(profiles, now + options.Value.CacheDuration);
        return profiles;
    }

    private sealed record ListEntry(IReadOnlyList<TenantProfile> Profiles, DateTimeOffset Expires);
}

/// <summary>A cache whose entries expire after a fixed lifetime and which empties itself rather than grow past a bound.</summary>
internal sealed class BoundedCache<TKey, TValue>(TimeSpan lifetime, int maxEntries, TimeProvider timeProvider, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new(comparer);

    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > timeProvider.GetUtcNow())
            {
                value = entry.Value;
                return true;
            }

            _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
        }

        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        if (_entries.Count >= maxEntries)
        {
            _entries.Clear();
        }

        _entries[key] = new Entry(value, timeProvider.GetUtcNow() + lifetime);
    }

    private sealed record Entry(TValue Value, DateTimeOffset Expires);
}
