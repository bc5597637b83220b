using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers release health criteria and the release-health gate.</summary>
public static class HealthCriteriaServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="ReleaseHealthMonitor"/> (once, however often this is called; each call's configuration applies),
    /// an in-memory <see cref="IHealthBaselineStore"/> unless one is registered, and startup validation of the options.
    /// Resolve the monitor at startup so it starts capturing instruments from the deploy on (ReleaseKit.Hosting's <c>AddHosting()</c> does it when the host starts).
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="configure">Declares signals, captures, criteria and windows.</param>
    /// <returns>The ReleaseKit builder.</returns>
    public static IReleaseKitBuilder AddHealthCriteria(this IReleaseKitBuilder builder, Action<ReleaseHealthOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReleaseHealthMonitor>();
        services.TryAddSingleton<IHealthBaselineStore, InMemoryHealthBaselineStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseHealthOptions>, ReleaseHealthOptionsValidator>());
        services.AddOptions<ReleaseHealthOptions>().Configure(configure).ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// Keeps health baselines in the table <c>releasekit_health_baselines</c> of <paramref name="dataSource"/> (SQLite or
    /// PostgreSQL) instead of in memory, so a release finds the previous release's window after a deploy replaced every
    /// process. Call it before or after <see cref="AddHealthCriteria"/>.
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="dataSource">The database.</param>
    /// <param name="dialect">The SQL dialect, or <see langword="null"/> to detect it.</param>
    /// <returns>The ReleaseKit builder.</returns>
    public static IReleaseKitBuilder UseDbHealthBaselineStore(this IReleaseKitBuilder builder, System.Data.Common.DbDataSource dataSource, SqlDialect? dialect = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return builder.UseDbHealthBaselineStore(_ => dataSource, dialect);
    }

    /// <summary>
    /// Keeps health baselines in the table <c>releasekit_health_baselines</c> of the data source <paramref name="dataSource"/>
    /// returns from the application's services (for example the one <c>AddNpgsqlDataSource</c> registered).
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="dataSource">Returns the database (SQLite or PostgreSQL) from the application's services.</param>
    /// <param name="dialect">The SQL dialect, or <see langword="null"/> to detect it.</param>
    /// <returns>The ReleaseKit builder.</returns>
    public static IReleaseKitBuilder UseDbHealthBaselineStore(this IReleaseKitBuilder builder, Func<IServiceProvider, System.Data.Common.DbDataSource> dataSource, SqlDialect? dialect = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        builder.Services.RemoveAll<IHealthBaselineStore>();
        builder.Services.AddSingleton<IHealthBaselineStore>(sp => new DbHealthBaselineStore(dataSource(sp), dialect, sp.GetService<TimeProvider>()));
        return builder;
    }

    /// <summary>Adds the release-health gate (stage PostDeploy): the verdict of a window, Healthy → Pass, Degraded → Warn, Inconclusive → Inconclusive, RollBack → Fail.</summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="window">The window judged: <c>first-hour</c> (default), <c>first-day</c>, <c>first-billing-cycle</c> or a custom window.</param>
    /// <param name="name">The gate's name.</param>
    /// <param name="registration">Configures the registration.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddReleaseHealthGate(this IReleaseGatesBuilder builder, string window = ReleaseWindow.FirstHourName, string name = "release-health", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ReleaseHealthGateOptions>(name).Configure(o => o.Window = window).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseHealthGateOptions>, ReleaseHealthGateOptionsValidator>());
        return builder.AddGate<ReleaseHealthGate>(name, r => { r.InStages(GateStage.PostDeploy); r.WithTags("health"); registration?.Invoke(r); });
    }
}
