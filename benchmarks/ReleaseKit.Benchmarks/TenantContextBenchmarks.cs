using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using ReleaseKit.TenantContext;

namespace ReleaseKit.Benchmarks;

/// <summary>
/// The ambient tenant beside its limits, each pair in its own category with the anchor as baseline:
/// reading the tenant vs a raw <see cref="AsyncLocal{T}"/> read; beginning and ending a scope vs setting and restoring a
/// raw AsyncLocal (and, for reference, a single raw AsyncLocal write: the floor for anything that flows); a tenant-aware FeatureManagement <c>IsEnabledAsync</c> (targeting context from the ambient tenant) vs
/// <c>IsEnabledAsync</c> with a fixed targeting context, on the same feature definition.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TenantContextBenchmarks
{
    private const string Feature = "RingOne";

    private static readonly AsyncLocal<string?> Raw = new();

    private ServiceProvider _provider = null!;
    private ITenantContextAccessor _tenants = null!;
    private IFeatureManager _features = null!;
    private TargetingContext _fixedContext = null!;
    private TenantScope _scope;

    [GlobalSetup]
    public void Setup()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["feature_management:feature_flags:0:id"] = Feature,
            ["feature_management:feature_flags:0:enabled"] = "true",
            ["feature_management:feature_flags:0:conditions:client_filters:0:name"] = "Microsoft.Targeting",
            ["feature_management:feature_flags:0:conditions:client_filters:0:parameters:Audience:Groups:0:Name"] = "ring:1",
            ["feature_management:feature_flags:0:conditions:client_filters:0:parameters:Audience:Groups:0:RolloutPercentage"] = "100",
            ["feature_management:feature_flags:0:conditions:client_filters:0:parameters:Audience:DefaultRolloutPercentage"] = "0",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddReleaseKit().AddTenantContext(o => o.AddTenant("acme", t => { t.Ring = 1; t.Tier = "Pooled"; t.Region = "eu-west"; }));
        services.AddFeatureManagement().WithTenantTargeting();
        _provider = services.BuildServiceProvider();
        _tenants = _provider.GetRequiredService<ITenantContextAccessor>();
        _features = _provider.GetRequiredService<IFeatureManager>();
        _fixedContext = new TargetingContext { UserId = "acme", Groups = ["ring:1", "tier:Pooled", "region:eu-west"] };

        Raw.Value = "acme";
        _scope = _tenants.Begin("acme");
        if (!_features.IsEnabledAsync(Feature).GetAwaiter().GetResult() || !_features.IsEnabledAsync(Feature, _fixedContext).GetAwaiter().GetResult())
        {
            throw new InvalidOperationException("The benchmark feature must be on for both paths.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scope.Dispose();
        _provider.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Read")]
    public string? RawAsyncLocalRead() => Raw.Value;

    [Benchmark]
    [BenchmarkCategory("Read")]
    public string? CurrentTenantRead() => _tenants.CurrentTenantId;

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Scope")]
    public string? RawAsyncLocalSetAndRestore()
    {
        var previous = Raw.Value;
        Raw.Value = "globex";
        var inside = Raw.Value;
        Raw.Value = previous;
        return inside;
    }

    /// <summary>The floor for any value that flows with the execution context: one AsyncLocal write (a new immutable
    /// ExecutionContext and its value map). A scope cannot cost less than this.</summary>
    [Benchmark]
    [BenchmarkCategory("Scope")]
    public string? RawAsyncLocalSingleWrite()
    {
        var next = ReferenceEquals(Raw.Value, "globex") ? "acme" : "globex";
        Raw.Value = next;
        return next;
    }

    [Benchmark]
    [BenchmarkCategory("Scope")]
    public string? BeginAndEndScope()
    {
        using var scope = _tenants.Begin("globex");
        return scope.TenantId;
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("IsEnabled")]
    public Task<bool> IsEnabledWithFixedTargetingContext() => _features.IsEnabledAsync(Feature, _fixedContext);

    [Benchmark]
    [BenchmarkCategory("IsEnabled")]
    public Task<bool> IsEnabledForAmbientTenant() => _features.IsEnabledAsync(Feature);
}
