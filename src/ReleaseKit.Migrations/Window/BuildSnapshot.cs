using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ReleaseKit.Migrations;

/// <summary>A build as the compatibility window sees it: its version and the migration versions it contains.</summary>
public sealed class BuildSnapshot
{
    /// <summary>Creates a build.</summary>
    /// <param name="version">The build (application) version.</param>
    /// <param name="knownMigrations">The versions of the migrations the build contains.</param>
    public BuildSnapshot(string version, IEnumerable<long> knownMigrations)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        ArgumentNullException.ThrowIfNull(knownMigrations);
        Version = version;
        KnownMigrations = knownMigrations as IReadOnlySet<long> ?? knownMigrations.ToHashSet();
    }

    /// <summary>The build version.</summary>
    public string Version { get; }

    /// <summary>The migration versions the build contains.</summary>
    public IReadOnlySet<long> KnownMigrations { get; }

    /// <summary>The catalog this build was made from (<see cref="MigrationCatalog.ToBuild"/>), whose phases a heartbeat publishes; <see langword="null"/> for bare versions.</summary>
    internal MigrationCatalog? Catalog { get; init; }

    /// <summary>A SHA-256 digest of the sorted known versions, the same for every build that knows the same set.</summary>
    public string Digest => ComputeDigest(KnownMigrations);

    internal static string ComputeDigest(IEnumerable<long> versions)
    {
        var text = string.Join(',', versions.Order().Select(v => v.ToString(CultureInfo.InvariantCulture)));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <inheritdoc />
    public override string ToString() => $"build {Version} ({KnownMigrations.Count} migrations)";
}

/// <summary>A migration applied to the database, with the phase recorded for it (null when no build has published it).</summary>
/// <param name="Version">The migration version.</param>
/// <param name="Phase">The recorded phase; <see langword="null"/> when unknown, which the window treats as Contract (fail closed).</param>
public sealed record AppliedMigration(long Version, Phase? Phase);

/// <summary>A live instance of the application, as the fleet registry records it.</summary>
/// <param name="InstanceId">The instance id.</param>
/// <param name="BuildVersion">The build it runs.</param>
/// <param name="KnownMigrations">The migration versions its build contains.</param>
/// <param name="Host">The host it runs on.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="LastSeen">Its last heartbeat.</param>
public sealed record FleetInstance(string InstanceId, string BuildVersion, IReadOnlySet<long> KnownMigrations, string Host, DateTimeOffset StartedAt, DateTimeOffset LastSeen)
{
    /// <inheritdoc />
    public override string ToString() => $"{InstanceId} (build {BuildVersion} on {Host}, last seen {LastSeen:O})";
}
