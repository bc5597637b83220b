using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

internal static class TestTenants
{
    /// <summary>Wednesday 2028-05-10 10:00 UTC: mid-month, no freeze.</summary>
    public static readonly DateTimeOffset MidMonth = new(2028, 5, 10, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Tuesday 2028-05-30 10:00 UTC: inside the last 3 business days of May.</summary>
    public static readonly DateTimeOffset MonthEnd = new(2028, 5, 30, 10, 0, 0, TimeSpan.Zero);

    public static void Configure(TenantContextOptions o)
    {
        o.AddTenant("canary", t => t.Ring = 0);
        o.AddTenant("acme", t => { t.Ring = 1; t.Tier = "DedicatedDatabase"; t.Region = "eu-west"; t.MonthEndFreezeBusinessDays = 3; t.ChangeWindows = new ReleaseWindowOptions { TimeZoneId = "Europe/Berlin" }; });
        o.AddTenant("globex", t => { t.Ring = 1; t.Tier = "Pooled"; });
        o.AddTenant("initech", t => { t.Ring = 2; t.IsStrategic = true; t.Tier = "Regional"; t.Region = "us-east"; t.RequiredPreviousRingHealthyFor = TimeSpan.FromHours(24); });
    }

    public static ServiceProvider Build(Action<IServiceCollection>? more = null, Action<TenantContextOptions>? configure = null, FakeTimeProvider? time = null, string? featureJson = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time ?? new FakeTimeProvider(MidMonth));
        services.AddReleaseKit().AddTenantContext(configure ?? Configure);
        if (featureJson is not null)
        {
            services.AddSingleton<IConfiguration>(Json(featureJson));
            Microsoft.FeatureManagement.ServiceCollectionExtensions.AddFeatureManagement(services).WithTenantTargeting();
        }

        more?.Invoke(services);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        return provider;
    }

    public static IConfigurationRoot Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
}
