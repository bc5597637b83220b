using System.Data.Common;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Migrations;
using ReleaseKit.Migrations.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ReleaseKit.Migrations: the migration catalog, fleet registry, fleet migrator and the migration gates.</summary>
public static class MigrationsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the catalog of the application's migrations, the fleet registry and the fleet migrator. The database is the
    /// <see cref="DbDataSource"/> registered in the container; FluentMigrator's runner is configured by the application
    /// (<c>AddFluentMigratorCore().ConfigureRunner(rb =&gt; rb.AddPostgres()...)</c>). Calling it twice registers once.
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="configure">Configures the options.</param>
    public static IReleaseKitBuilder AddMigrations(this IReleaseKitBuilder builder, Action<ReleaseKitMigrationsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.AddOptions<ReleaseKitMigrationsOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseKitMigrationsOptions>, ReleaseKitMigrationsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ReleaseKitMigrationsOptions>>().Value;
            return MigrationCatalog.FromAssembly(options.MigrationsAssembly!, options.Namespace);
        });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ReleaseKitMigrationsOptions>>().Value;
            var dataSource = sp.GetService<DbDataSource>()
                ?? throw new InvalidOperationException("ReleaseKit.Migrations needs a System.Data.Common.DbDataSource in the container (for example NpgsqlDataSource or a SqliteFactory data source).");
            return new FleetRegistry(
                dataSource,
                new FleetRegistryOptions { InstanceExpiry = options.InstanceExpiry, VersionTableName = options.VersionTableName, VersionTableSchema = options.VersionTableSchema },
                sp.GetRequiredService<TimeProvider>(),
                options.Dialect,
                Logger(sp));
        });
        services.TryAddSingleton(sp => new BackfillRunner(
            sp.GetRequiredService<DbDataSource>(),
            null,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<FleetRegistry>().Dialect,
            Logger(sp)));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ReleaseKitMigrationsOptions>>().Value;
            return new FleetMigrator(
                sp,
                sp.GetRequiredService<MigrationCatalog>(),
                sp.GetRequiredService<FleetRegistry>(),
                sp.GetRequiredService<DbDataSource>(),
                new FleetMigratorOptions { LockTimeout = options.LockTimeout, Holder = options.InstanceId },
                sp.GetRequiredService<TimeProvider>(),
                Logger(sp));
        });
        return builder;
    }

    /// <summary>
    /// Adds the migration gates: <c>schema-compatibility</c> (startup: this build inside the window), <c>contract-safety</c>
    /// (promotion: no pending Contract while a live instance needs the old shape) and <c>migration-lint</c> (promotion).
    /// Requires <see cref="AddMigrations"/>.
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    public static IReleaseGatesBuilder AddMigrationGates(this IReleaseGatesBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(MigrationGatesMarker)))
        {
            return builder;
        }

        builder.Services.AddSingleton<MigrationGatesMarker>();
        builder.AddGate(
            "schema-compatibility",
            sp => new SchemaCompatibilityGate(sp.GetRequiredService<MigrationCatalog>(), sp.GetRequiredService<FleetRegistry>(), sp.GetRequiredService<IOptions<ReleaseKitMigrationsOptions>>().Value.BuildVersion!),
            r => r.WithTags("migrations", "schema").InStages(GateStage.Startup, GateStage.Promotion));
        builder.AddGate(
            "contract-safety",
            sp => new ContractSafetyGate(sp.GetRequiredService<MigrationCatalog>(), sp.GetRequiredService<FleetRegistry>()),
            r => r.WithTags("migrations", "schema").InStages(GateStage.Promotion));
        builder.AddGate(
            "migration-lint",
            sp => new MigrationLintGate(sp.GetRequiredService<MigrationCatalog>(), sp.GetRequiredService<FleetRegistry>().Dialect),
            r => r.WithTags("migrations", "rollback-safety").InStages(GateStage.Promotion));
        return builder;
    }

    private static ILogger? Logger(IServiceProvider services) => services.GetService<ILoggerFactory>()?.CreateLogger("ReleaseKit.Migrations");

    private sealed class MigrationGatesMarker;
}
