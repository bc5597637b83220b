using System.Data.Common;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the built-in artifact identity gate and the store it reads.</summary>
public static class ArtifactIdentityGateBuilderExtensions
{
    /// <summary>
    /// Adds a gate that passes only when the manifest's <see cref="ReleaseManifest.ArtifactDigest"/> equals the digest
    /// recorded when the same release passed <see cref="ArtifactIdentityOptions.SourceEnvironment"/> ("build once,
    /// promote the same artifact"). Register a store too (<see cref="UseFileArtifactStore"/>,
    /// <see cref="UseDbArtifactStore(IReleaseGatesBuilder, DbDataSource, SqlDialect?)"/>) or set
    /// <see cref="ArtifactIdentityOptions.Store"/>. The options are validated at startup.
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="configure">Sets the source environment and, optionally, the store.</param>
    /// <param name="name">The gate's unique name; its options are the named options of that name.</param>
    /// <param name="registration">Configures stages, tags, timeout and severity.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddArtifactIdentityGate(this IReleaseGatesBuilder builder, Action<ArtifactIdentityOptions>? configure = null, string name = "artifact-identity", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ArtifactIdentityOptions>, ArtifactIdentityOptionsValidator>());
        var options = builder.Services.AddOptions<ArtifactIdentityOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        return builder.AddGate<ArtifactIdentityGate>(name, registration);
    }

    /// <summary>
    /// Registers an <see cref="IArtifactRecordStore"/> kept in one JSON file (replacing any store registered before).
    /// Writes replace the file atomically under a lock on <c>&lt;path&gt;.lock</c>; a corrupt file is an error, never an empty store.
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="path">The JSON file; created on the first record. Relative paths are resolved against the current directory.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder UseFileArtifactStore(this IReleaseGatesBuilder builder, string path)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        builder.Services.Replace(ServiceDescriptor.Singleton<IArtifactRecordStore>(sp => new ArtifactRecordFileStore(fullPath, sp.GetService<TimeProvider>())));
        return builder;
    }

    /// <summary>
    /// Registers an <see cref="IArtifactRecordStore"/> in the table <c>releasekit_artifact_records</c> of a SQLite or
    /// PostgreSQL database (replacing any store registered before). The table is created when missing.
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="dataSource">The database (for example an <c>NpgsqlDataSource</c>, or <c>SqliteFactory.Instance.CreateDataSource(...)</c>).</param>
    /// <param name="dialect">The SQL dialect; detected from the data source's connection type when <see langword="null"/>.</param>
    /// <returns>The gates builder.</returns>
    /// <exception cref="ArgumentException">The dialect is not given and cannot be detected.</exception>
    public static IReleaseGatesBuilder UseDbArtifactStore(this IReleaseGatesBuilder builder, DbDataSource dataSource, SqlDialect? dialect = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var store = new ArtifactRecordDbStore(dataSource, dialect);
        builder.Services.Replace(ServiceDescriptor.Singleton<IArtifactRecordStore>(store));
        return builder;
    }

    /// <summary>
    /// Registers an <see cref="IArtifactRecordStore"/> in the table <c>releasekit_artifact_records</c> of the
    /// <see cref="DbDataSource"/> the factory returns (for example one registered in the container).
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="dataSourceFactory">Returns the data source.</param>
    /// <param name="dialect">The SQL dialect; detected from the data source's connection type when <see langword="null"/>.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder UseDbArtifactStore(this IReleaseGatesBuilder builder, Func<IServiceProvider, DbDataSource> dataSourceFactory, SqlDialect? dialect = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSourceFactory);
        builder.Services.Replace(ServiceDescriptor.Singleton<IArtifactRecordStore>(sp => new ArtifactRecordDbStore(dataSourceFactory(sp), dialect)));
        return builder;
    }
}
