using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.TenantContext.Internal;

internal sealed class TenantResolver : ITenantResolver
{
    private readonly ITenantProfileProvider _profiles;
    private readonly ITenantResolutionStrategy[] _strategies;
    private readonly TenantSourceOptions[] _sources;
    private readonly string[] _sourceNames;
    private readonly Dictionary<string, string> _hosts;
    private readonly BoundedCache<(int Source, string Key), ResolvedTenant> _cache;
    private readonly ILogger _logger;

    public TenantResolver(ITenantProfileProvider profiles, IEnumerable<ITenantResolutionStrategy> strategies, IOptions<TenantContextOptions> options, TimeProvider timeProvider, ILogger<TenantResolver>? logger = null)
    {
        _profiles = profiles;
        _strategies = [.. strategies];
        var value = options.Value;
        _sources = [.. value.Sources];
        _sourceNames = [.. _sources.Select(s => s.ToString()), .. _strategies.Select(s => s.Name)];
        _hosts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var tenant in value.Tenants)
        {
            foreach (var host in tenant.Hosts)
            {
                _hosts[host] = tenant.Id!;
            }
        }

        _cache = new(value.CacheDuration, value.MaxCacheEntries, timeProvider, new KeyComparer());
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    public async ValueTask<ResolvedTenant?> ResolveAsync(TenantResolutionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        for (var i = 0; i < _sourceNames.Length; i++)
        {
            var key = i < _sources.Length
                ? Read(_sources[i], request)
                : await _strategies[i - _sources.Length].GetTenantIdAsync(request, cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(key))
            {
                continue;
            }

            key = key.Trim();
            if (i < _sources.Length && _sources[i].Kind == TenantSourceKind.Host && HostToTenant(_sources[i], key) is null)
            {
                continue;
            }

            if (_cache.TryGet((i, key), out var cached))
            {
                return cached;
            }

            var resolved = await ResolveKeyAsync(i, key, cancellationToken).ConfigureAwait(false);
            _cache.Set((i, key), resolved);
            return resolved;
        }

        return null;
    }

    private async ValueTask<ResolvedTenant> ResolveKeyAsync(int source, string key, CancellationToken cancellationToken)
    {
        var sourceName = _sourceNames[source];
        var tenantId = source < _sources.Length && _sources[source].Kind == TenantSourceKind.Host ? HostToTenant(_sources[source], key) : key;
        using var activity = TenantTelemetry.ActivitySource.StartActivity("releasekit.tenant.resolve");
        activity?.SetTag(TenantTelemetryTags.Source, sourceName);
        var profile = tenantId is null ? null : await _profiles.FindAsync(tenantId, cancellationToken).ConfigureAwait(false);
        tenantId ??= key;
        if (profile is null)
        {
            Count(sourceName, "unknown");
            activity?.SetStatus(ActivityStatusCode.Error, "unknown tenant");
            Log.UnknownTenant(_logger, tenantId, sourceName);
            throw new UnknownTenantException(tenantId, sourceName);
        }

        Count(sourceName, "resolved");
        activity?.SetTag(TelemetryTags.TenantId, profile.Id);
        Log.Resolved(_logger, profile.Id, sourceName);
        return new ResolvedTenant(profile, sourceName);
    }

    private static void Count(string source, string outcome)
    {
        if (TenantTelemetry.Resolutions.Enabled)
        {
            TenantTelemetry.Resolutions.Add(1, new KeyValuePair<string, object?>(TenantTelemetryTags.Source, source), new KeyValuePair<string, object?>(TenantTelemetryTags.Outcome, outcome));
        }
    }

    private string? HostToTenant(TenantSourceOptions source, string host)
    {
        if (_hosts.TryGetValue(host, out var tenantId))
        {
            return tenantId;
        }

        var suffix = source.Name;
        if (string.IsNullOrEmpty(suffix))
        {
            var dot = host.IndexOf('.', StringComparison.Ordinal);
            return dot > 0 ? host[..dot] : host;
        }

        if (!suffix.StartsWith('.'))
        {
            suffix = "." + suffix;
        }

        if (!host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || host.Length == suffix.Length)
        {
            return null;
        }

        var label = host[..^suffix.Length];
        return label.Contains('.', StringComparison.Ordinal) ? null : label;
    }

    private static string? Read(TenantSourceOptions source, TenantResolutionRequest request) => source.Kind switch
    {
        TenantSourceKind.Header => Lookup(request.Headers, source.Name!),
        TenantSourceKind.Host => StripPort(request.Host),
        TenantSourceKind.Claim => request.Claims?.FirstOrDefault(c => string.Equals(c.Key, source.Name, StringComparison.Ordinal)).Value,
        TenantSourceKind.RouteValue => Lookup(request.RouteValues, source.Name!),
        TenantSourceKind.JobPayload => Lookup(request.JobPayload, source.Name!),
        _ => null,
    };

    private static string? Lookup(IReadOnlyDictionary<string, string?>? values, string name) =>
        values is not null && values.TryGetValue(name, out var value) ? value : null;

    private static string? StripPort(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return null;
        }

        var colon = host.LastIndexOf(':');
        return colon > 0 && !host.EndsWith(']') ? host[..colon] : host;
    }

    private sealed class KeyComparer : IEqualityComparer<(int Source, string Key)>
    {
        public bool Equals((int Source, string Key) x, (int Source, string Key) y) =>
            x.Source == y.Source && string.Equals(x.Key, y.Key, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode((int Source, string Key) obj) => HashCode.Combine(obj.Source, StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Key));
    }
}
