using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using ReleaseKit.Gates;

namespace ReleaseKit.TenantContext;

/// <summary>Options of the feature exposure gate.</summary>
public sealed class FeatureExposureGateOptions
{
    /// <summary>Gets or sets the highest ring the release reaches with this promotion (0 = canary). Required.</summary>
    public int ReachedRing { get; set; } = -1;

    /// <summary>Gets the change classes whose features must ship dark: by default BillingLogic, IdentityModel, SchemaMigration and IntegrationContract.</summary>
    public ISet<string> HighRiskChangeClasses { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ChangeClasses.BillingLogic, ChangeClasses.IdentityModel, ChangeClasses.SchemaMigration, ChangeClasses.IntegrationContract,
    };
}

/// <summary>
/// "Deploy dark, expose ring by ring": for a release with a high-risk change class, each feature flag the manifest lists must
/// exist in FeatureManagement's configuration and evaluate off (through the real <see cref="IFeatureManager"/>) for a tenant
/// with no ring, for every ring after the reached ring and for every known tenant in those rings.
/// </summary>
internal sealed class FeatureExposureGate(IOptionsMonitor<FeatureExposureGateOptions> options) : IReleaseGate
{
    private const string ProbeId = "releasekit-exposure-probe";

    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = options.Get(context.GateName);
        var manifest = context.Manifest;
        var highRisk = manifest.ChangeClasses.Where(settings.HighRiskChangeClasses.Contains).ToList();
        var reachedText = settings.ReachedRing.ToString(CultureInfo.InvariantCulture);
        var evidence = new List<Evidence>
        {
            new("high_risk_change_classes", highRisk.Count == 0 ? "(none)" : string.Join(", ", highRisk), "any of: " + string.Join(", ", settings.HighRiskChangeClasses), source: manifest.Source),
            new("reached_ring", reachedText),
        };
        if (highRisk.Count == 0)
        {
            return GateResult.Pass("The release has no high-risk change class, so its features need not ship dark.", evidence);
        }

        if (manifest.FeatureFlags.Count == 0)
        {
            return GateResult.Warn($"The release is high-risk ({string.Join(", ", highRisk)}) but lists no feature flags, so nothing of it can be exposed ring by ring.", evidence);
        }

        var definitions = context.Services.GetService<IFeatureDefinitionProvider>();
        var features = context.Services.GetService<IFeatureManager>();
        if (definitions is null || features is null)
        {
            return GateResult.Inconclusive("Microsoft.FeatureManagement is not registered (AddFeatureManagement()), so the release's feature flags cannot be checked.", evidence);
        }

        var tenants = context.Services.GetService<ITenantProfileProvider>() is { } profiles
            ? await profiles.ListAsync(cancellationToken).ConfigureAwait(false)
            : [];
        var later = tenants.Where(t => t.Ring > settings.ReachedRing).ToList();
        var lastRing = Math.Max(settings.ReachedRing + 1, later.Select(t => t.Ring).DefaultIfEmpty(0).Max());

        var failures = new List<string>();
        var inconclusive = new List<string>();
        foreach (var flag in manifest.FeatureFlags)
        {
            if (await definitions.GetFeatureDefinitionAsync(flag).ConfigureAwait(false) is null)
            {
                evidence.Add(new Evidence($"feature:{flag}", "missing from FeatureManagement configuration", "defined and off outside the reached rings", source: "feature_management"));
                failures.Add($"feature '{flag}' is not defined in FeatureManagement's configuration");
                continue;
            }

            var probes = new List<(string Where, TargetingContext Context)>
            {
                ("a tenant with no ring (the default)", new TargetingContext { UserId = ProbeId, Groups = [] }),
            };
            for (var ring = settings.ReachedRing + 1; ring <= lastRing; ring++)
            {
                var r = ring.ToString(CultureInfo.InvariantCulture);
                probes.Add(($"ring {r}", new TargetingContext { UserId = $"{ProbeId}:ring:{r}", Groups = [TenantTargetingGroups.RingPrefix + r] }));
            }

            probes.AddRange(later.Select(t => ($"tenant '{t.Id}' in ring {t.Ring.ToString(CultureInfo.InvariantCulture)}", TenantTargetingGroups.CreateTargetingContext(t))));
            var exposedTo = new List<string>();
            foreach (var (where, probe) in probes)
            {
                try
                {
                    if (await features.IsEnabledAsync(flag, probe).ConfigureAwait(false))
                    {
                        exposedTo.Add(where);
                    }
                }
                catch (Exception ex) when (ex is InvalidOperationException or FeatureManagementException)
                {
                    evidence.Add(new Evidence($"feature:{flag}", $"cannot be evaluated for {where}: {ex.Message}", source: "feature_management"));
                    inconclusive.Add($"feature '{flag}' cannot be evaluated for {where}");
                    break;
                }
            }

            if (exposedTo.Count > 0)
            {
                evidence.Add(new Evidence($"feature:{flag}", "on for " + string.Join(", ", exposedTo), $"off outside rings 0..{reachedText}", source: "feature_management"));
                failures.Add($"feature '{flag}' is on for {exposedTo[0]}{(exposedTo.Count > 1 ? $" (and {exposedTo.Count - 1} more)" : string.Empty)}, beyond reached ring {reachedText}");
            }
            else if (inconclusive.Count == 0 || !inconclusive[^1].Contains($"'{flag}'", StringComparison.Ordinal))
            {
                evidence.Add(new Evidence($"feature:{flag}", "off outside the reached rings", $"off outside rings 0..{reachedText}", source: "feature_management"));
            }
        }

        if (failures.Count > 0)
        {
            return GateResult.Fail($"High-risk features must ship dark and be exposed ring by ring: {string.Join("; ", failures)}.", evidence);
        }

        if (inconclusive.Count > 0)
        {
            return GateResult.Inconclusive($"Feature exposure cannot be decided: {string.Join("; ", inconclusive)}.", evidence);
        }

        return GateResult.Pass($"All {manifest.FeatureFlags.Count} feature flag(s) of the high-risk release are defined and off outside rings 0..{reachedText}.", evidence);
    }
}

internal sealed class FeatureExposureGateOptionsValidator : IValidateOptions<FeatureExposureGateOptions>
{
    public ValidateOptionsResult Validate(string? name, FeatureExposureGateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ReachedRing is < 0 or > 100)
        {
            failures.Add($"Gate '{name}': FeatureExposureGateOptions.ReachedRing is {options.ReachedRing}; allowed is 0 (canary) to 100.");
        }

        if (options.HighRiskChangeClasses.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"Gate '{name}': FeatureExposureGateOptions.HighRiskChangeClasses contains a blank entry; use change class names such as {string.Join(", ", ChangeClasses.WellKnown)}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
