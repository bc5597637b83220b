using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.TenantContext;

/// <summary>Options of the tenant change-window gate.</summary>
public sealed class TenantChangeWindowGateOptions
{
    /// <summary>Gets or sets the rollout ring being promoted (0 = canary, up to 100). Required.</summary>
    public int Ring { get; set; } = -1;
}

/// <summary>
/// Tells how long a rollout ring has been healthy (from the application's release health, for example the
/// HealthCriteria verdicts). The tenant change-window gate asks it for strategic tenants that require the previous
/// ring to have been healthy for a minimum time.
/// </summary>
public interface IRingHealthSource
{
    /// <summary>How long <paramref name="ring"/> has been continuously healthy with the release being promoted.</summary>
    /// <param name="ring">The ring.</param>
    /// <param name="environmentName">The environment.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The duration (zero when unhealthy now), or <see langword="null"/> when unknown (the gate then fails closed).</returns>
    ValueTask<TimeSpan?> GetHealthyDurationAsync(int ring, string environmentName, CancellationToken cancellationToken);
}

/// <summary>
/// For the ring being promoted: names the tenants the release reaches next, fails for each tenant whose own change windows
/// deny a change now, and for strategic tenants whose required healthy time of the previous ring is not met or unknown.
/// </summary>
internal sealed class TenantChangeWindowGate(IOptionsMonitor<TenantChangeWindowGateOptions> options, ITenantProfileProvider profiles) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ring = options.Get(context.GateName).Ring;
        var all = await profiles.ListAsync(cancellationToken).ConfigureAwait(false);
        var reached = all.Where(p => p.Ring == ring).OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
        var ringText = ring.ToString(CultureInfo.InvariantCulture);
        var evidence = new List<Evidence>
        {
            new("ring", ringText),
            new("reaches", reached.Count == 0 ? "(none)" : string.Join(", ", reached.Select(p => p.Id)), source: $"tenants in ring {ringText}"),
        };
        if (all.Where(p => p.Ring > ring).Select(p => p.Ring).DefaultIfEmpty(-1).Min() is var nextRing and >= 0)
        {
            evidence.Add(new Evidence("then", string.Join(", ", all.Where(p => p.Ring == nextRing).Select(p => p.Id).Order(StringComparer.Ordinal)), source: $"tenants in ring {nextRing.ToString(CultureInfo.InvariantCulture)}"));
        }

        if (reached.Count == 0)
        {
            return GateResult.Inconclusive($"Ring {ringText} has no tenants, so promoting it reaches nobody; check the ring number or the tenants' rings.", evidence);
        }

        var now = context.TimeProvider.GetUtcNow();
        var failures = new List<string>();
        foreach (var tenant in reached)
        {
            if (tenant.ChangeWindows is { } windows && !windows.IsChangeAllowed(now, out var blocking))
            {
                var zone = windows.Calendar.TimeZone.Id;
                var local = windows.Calendar.ToLocalTime(now).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
                var why = blocking is not null
                    ? $"inside its change window '{blocking.Name}' ({blocking.Rule.Description})"
                    : $"outside every allowed window ({string.Join(", ", windows.Allow.Select(w => $"'{w.Name}'"))})";
                evidence.Add(new Evidence($"tenant:{tenant.Id}", why, threshold: "change allowed", source: $"{local} {zone}"));
                failures.Add($"tenant '{tenant.Id}' is {why} at {local} ({zone})");
            }

            if (tenant.RequiredPreviousRingHealthyFor is { } required && required > TimeSpan.Zero)
            {
                var problem = await CheckPreviousRingAsync(context, tenant, required, cancellationToken).ConfigureAwait(false);
                if (problem is not null)
                {
                    evidence.Add(new Evidence($"tenant:{tenant.Id}", problem, threshold: $"ring {(tenant.Ring - 1).ToString(CultureInfo.InvariantCulture)} healthy for {required}", source: nameof(IRingHealthSource)));
                    failures.Add($"strategic tenant '{tenant.Id}': {problem}");
                }
            }
        }

        return failures.Count == 0
            ? GateResult.Pass($"Ring {ringText} reaches {reached.Count} tenant{(reached.Count == 1 ? string.Empty : "s")}, none inside its change-window freeze.", evidence)
            : GateResult.Fail($"Ring {ringText} cannot be promoted now: {string.Join("; ", failures)}.", evidence);
    }

    private static async ValueTask<string?> CheckPreviousRingAsync(GateContext context, TenantProfile tenant, TimeSpan required, CancellationToken cancellationToken)
    {
        if (tenant.Ring == 0)
        {
            return "it is in ring 0, which has no previous ring to have been healthy; move it to a later ring or drop RequiredPreviousRingHealthyFor";
        }

        var previous = tenant.Ring - 1;
        if (context.Services.GetService<IRingHealthSource>() is not { } health)
        {
            return $"no IRingHealthSource is registered, so ring {previous.ToString(CultureInfo.InvariantCulture)}'s health is unknown";
        }

        var healthy = await health.GetHealthyDurationAsync(previous, context.EnvironmentName, cancellationToken).ConfigureAwait(false);
        return healthy switch
        {
            null => $"ring {previous.ToString(CultureInfo.InvariantCulture)}'s health is unknown",
            { } h when h < required => $"ring {previous.ToString(CultureInfo.InvariantCulture)} has been healthy for {h}, less than the required {required}",
            _ => null,
        };
    }
}

internal sealed class TenantChangeWindowGateOptionsValidator : IValidateOptions<TenantChangeWindowGateOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantChangeWindowGateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Ring is < 0 or > 100
            ? ValidateOptionsResult.Fail($"Gate '{name}': TenantChangeWindowGateOptions.Ring is {options.Ring}; allowed is 0 (canary) to 100.")
            : ValidateOptionsResult.Success;
    }
}
