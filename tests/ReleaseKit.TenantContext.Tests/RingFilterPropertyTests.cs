using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class RingFilterPropertyTests
{
    [Property(MaxTest = 60)]
    public Property Ring_filter_is_on_exactly_for_rings_up_to_MaxRing_for_the_ambient_tenant_and_an_explicit_context() =>
        Prop.ForAll(Gen.Choose(0, 10).ToArbitrary(), Gen.Choose(0, 10).ToArbitrary(), (ring, maxRing) =>
        {
            var json = $$"""{ "feature_management": { "feature_flags": [ { "id": "F", "enabled": true, "conditions": { "client_filters": [ { "name": "ReleaseKit.Ring", "parameters": { "MaxRing": {{maxRing.ToString(CultureInfo.InvariantCulture)}} } } ] } } ] } }""";
            using var provider = TestTenants.Build(configure: o => o.AddTenant("t", t => t.Ring = ring), featureJson: json);
            var features = provider.GetRequiredService<IFeatureManager>();
            using var _ = provider.GetRequiredService<ITenantContextAccessor>().Begin("t");
            var ambient = features.IsEnabledAsync("F").GetAwaiter().GetResult();
            var explicitContext = features.IsEnabledAsync("F", new TargetingContext { UserId = "x", Groups = [$"ring:{ring}"] }).GetAwaiter().GetResult();
            return ambient == (ring <= maxRing) && explicitContext == ambient;
        });

    [Property(MaxTest = 200)]
    public Property Nested_scopes_disposed_in_reverse_restore_every_outer_tenant() =>
        Prop.ForAll(Gen.NonEmptyListOf(Gen.Elements("a", "b", "c", "d")).ToArbitrary(), tenants =>
        {
            using var provider = TestTenants.Build();
            var accessor = provider.GetRequiredService<ITenantContextAccessor>();
            var scopes = new Stack<(TenantScope Scope, string? Outer)>();
            foreach (var tenant in tenants)
            {
                var outer = accessor.CurrentTenantId;
                scopes.Push((accessor.Begin(tenant), outer));
                if (accessor.CurrentTenantId != tenant)
                {
                    return false;
                }
            }

            while (scopes.Count > 0)
            {
                var (scope, outer) = scopes.Pop();
                scope.Dispose();
                if (accessor.CurrentTenantId != outer)
                {
                    return false;
                }
            }

            return accessor.CurrentTenantId is null;
        });
}
