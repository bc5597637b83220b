using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.TenantContext.Internal;

/// <summary>Fails startup on invalid tenant options, naming the option, the tenant and the allowed values.</summary>
internal sealed class TenantContextOptionsValidator : IValidateOptions<TenantContextOptions>
{
    internal static readonly string AllowedTiers = string.Join(", ", Enum.GetNames<TenantTier>());

    public ValidateOptionsResult Validate(string? name, TenantContextOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Enum.IsDefined(options.MissingTenant))
        {
            failures.Add($"TenantContextOptions.MissingTenant is {(int)options.MissingTenant}; allowed values are Throw and UseFallback.");
        }

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Tenants.Count; i++)
        {
            var tenant = options.Tenants[i];
            var where = $"TenantContextOptions.Tenants[{i}]";
            if (tenant is null)
            {
                failures.Add($"{where} is null.");
                continue;
            }

            if (string.IsNullOrWhiteSpace(tenant.Id))
            {
                failures.Add($"{where}.Id is missing; every tenant needs a unique id.");
            }
            else
            {
                where = $"{where} ('{tenant.Id}')";
                if (!ids.Add(tenant.Id))
                {
                    failures.Add($"{where}: Id '{tenant.Id}' is a duplicate (ids are compared case-insensitively); each tenant must appear once.");
                }
            }

            failures.AddRange(TenantProfiles.Validate(where, tenant));
        }

        if (options.MissingTenant == MissingTenantBehavior.UseFallback)
        {
            if (string.IsNullOrWhiteSpace(options.FallbackTenantId))
            {
                failures.Add("TenantContextOptions.FallbackTenantId is missing, but MissingTenant is UseFallback; name one real tenant, or use MissingTenant = Throw.");
            }
            else if (options.FallbackTenantId is "*" || options.FallbackTenantId.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"TenantContextOptions.FallbackTenantId is '{options.FallbackTenantId}'; a missing tenant never means all tenants: name one real tenant.");
            }
            else if (options.Tenants.Count > 0 && !ids.Contains(options.FallbackTenantId))
            {
                failures.Add($"TenantContextOptions.FallbackTenantId '{options.FallbackTenantId}' is not one of the configured tenants ({string.Join(", ", ids)}).");
            }
        }

        if (options.CacheDuration <= TimeSpan.Zero || options.CacheDuration > TimeSpan.FromDays(1))
        {
            failures.Add($"TenantContextOptions.CacheDuration is {options.CacheDuration}; allowed is more than zero and at most 1.00:00:00.");
        }

        if (options.MaxCacheEntries is < 1 or > 1_000_000)
        {
            failures.Add($"TenantContextOptions.MaxCacheEntries is {options.MaxCacheEntries}; allowed is 1 to 1000000.");
        }

        for (var i = 0; i < options.Sources.Count; i++)
        {
            var source = options.Sources[i];
            if (source is null)
            {
                failures.Add($"TenantContextOptions.Sources[{i}] is null.");
            }
            else if (!Enum.IsDefined(source.Kind))
            {
                failures.Add($"TenantContextOptions.Sources[{i}].Kind is {(int)source.Kind}; allowed values are {string.Join(", ", Enum.GetNames<TenantSourceKind>())}.");
            }
            else if (source.Kind != TenantSourceKind.Host && string.IsNullOrWhiteSpace(source.Name))
            {
                failures.Add($"TenantContextOptions.Sources[{i}] ({source.Kind}) has no Name; set the header name, claim type, route key or payload key.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Turns <see cref="TenantOptions"/> into <see cref="TenantProfile"/>s.</summary>
internal static class TenantProfiles
{
    public static IEnumerable<string> Validate(string where, TenantOptions tenant)
    {
        if (!Enum.TryParse<TenantTier>(tenant.Tier, ignoreCase: true, out var tier) || !Enum.IsDefined(tier) || int.TryParse(tenant.Tier, out _))
        {
            yield return $"{where}.Tier is '{tenant.Tier}'; allowed values are {TenantContextOptionsValidator.AllowedTiers}.";
        }
        else if (tier == TenantTier.Regional && string.IsNullOrWhiteSpace(tenant.Region))
        {
            yield return $"{where}.Region is missing; the Regional tier needs a region.";
        }

        if (tenant.Ring is < 0 or > 100)
        {
            yield return $"{where}.Ring is {tenant.Ring}; allowed is 0 (canary) to 100.";
        }

        if (tenant.RequiredPreviousRingHealthyFor is { } healthy && (healthy < TimeSpan.Zero || healthy > TimeSpan.FromDays(30)))
        {
            yield return $"{where}.RequiredPreviousRingHealthyFor is {healthy}; allowed is 0 to 30.00:00:00.";
        }

        if (tenant.Holidays.Count > 0 && tenant.ChangeWindows is null)
        {
            yield return $"{where}.Holidays needs ChangeWindows.TimeZoneId (the tenant's IANA time zone, for example Europe/Berlin).";
        }

        if (tenant.MonthEndFreezeBusinessDays is { } freeze)
        {
            if (freeze is < 1 or > 31)
            {
                yield return $"{where}.MonthEndFreezeBusinessDays is {freeze}; allowed is 1 to 31.";
            }

            if (tenant.ChangeWindows is null)
            {
                yield return $"{where}.MonthEndFreezeBusinessDays needs ChangeWindows.TimeZoneId (the tenant's IANA time zone, for example Europe/Berlin).";
            }
        }

        if (tenant.ChangeWindows is { } windows)
        {
            string? error = null;
            try
            {
                _ = CreateWindows(tenant);
            }
            catch (ArgumentException ex)
            {
                error = ex.Message;
            }

            if (error is not null)
            {
                yield return $"{where}.ChangeWindows: {error}";
            }
        }
    }

    public static TenantProfile Create(TenantOptions tenant)
    {
        var tier = Enum.Parse<TenantTier>(tenant.Tier, ignoreCase: true);
        return new TenantProfile
        {
            Id = tenant.Id!,
            DisplayName = tenant.DisplayName ?? tenant.Id,
            Tier = tier,
            Region = tenant.Region,
            Ring = tenant.Ring,
            IsStrategic = tenant.IsStrategic,
            RequiredPreviousRingHealthyFor = tenant.RequiredPreviousRingHealthyFor,
            ChangeWindows = CreateWindows(tenant),
        };
    }

    private static TenantChangeWindows? CreateWindows(TenantOptions tenant)
    {
        if (tenant.ChangeWindows is not { } options)
        {
            return null;
        }

        var calendar = BusinessCalendar.ForTimeZone(options.TimeZoneId ?? string.Empty, options.WeekendDays, options.Holidays.Concat(tenant.Holidays));
        var deny = options.DenyWindows.ToList();
        if (tenant.MonthEndFreezeBusinessDays is { } days)
        {
            deny.Add(new CalendarWindow("month-end close", WindowRule.LastBusinessDaysOfMonth(days)));
        }

        return new TenantChangeWindows(calendar, options.AllowWindows, deny);
    }
}
