using System.Reflection;
using FluentMigrator;

namespace ReleaseKit.Migrations;

/// <summary>The migrations a build contains, discovered from its assembly, with their phases.</summary>
public sealed class MigrationCatalog
{
    private readonly Dictionary<long, MigrationDescriptor> _byVersion;

    private MigrationCatalog(List<MigrationDescriptor> migrations)
    {
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        Migrations = migrations;
        _byVersion = migrations.ToDictionary(m => m.Version);
        Versions = _byVersion.Keys.ToHashSet();
    }

    /// <summary>The migrations, in version order.</summary>
    public IReadOnlyList<MigrationDescriptor> Migrations { get; }

    /// <summary>The versions of the migrations this build knows.</summary>
    public IReadOnlySet<long> Versions { get; }

    /// <summary>Discovers the FluentMigrator migrations (classes implementing <see cref="IMigration"/> with <see cref="MigrationAttribute"/>) in an assembly.</summary>
    /// <param name="assembly">The assembly holding the migrations.</param>
    /// <param name="namespaceFilter">Only migrations in this namespace or below it; <see langword="null"/> for all.</param>
    /// <exception cref="MigrationCatalogException">Two migrations share a version.</exception>
    public static MigrationCatalog FromAssembly(Assembly assembly, string? namespaceFilter = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            throw new MigrationCatalogException($"Cannot load the types of {assembly.GetName().Name} to find its migrations: {ex.LoaderExceptions.FirstOrDefault()?.Message}", ex);
        }

        return FromTypes(types.Where(t => namespaceFilter is null
            || string.Equals(t.Namespace, namespaceFilter, StringComparison.Ordinal)
            || (t.Namespace?.StartsWith(namespaceFilter + ".", StringComparison.Ordinal) ?? false)));
    }

    /// <summary>Builds a catalog from the given types; types that are not FluentMigrator migrations are ignored.</summary>
    /// <param name="types">The candidate types.</param>
    /// <exception cref="MigrationCatalogException">Two migrations share a version.</exception>
    public static MigrationCatalog FromTypes(IEnumerable<Type> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        var found = new List<MigrationDescriptor>();
        var seen = new Dictionary<long, Type>();
        foreach (var type in types)
        {
            if (type is null || type.IsAbstract || !type.IsClass || !typeof(IMigration).IsAssignableFrom(type))
            {
                continue;
            }

            var attribute = type.GetCustomAttribute<MigrationAttribute>(inherit: false);
            if (attribute is null)
            {
                continue;
            }

            if (seen.TryGetValue(attribute.Version, out var other))
            {
                throw new MigrationCatalogException(
                    $"Migration version {attribute.Version} is declared twice: by {other.FullName} and by {type.FullName}. Give each migration its own version.");
            }

            seen.Add(attribute.Version, type);
            found.Add(new MigrationDescriptor(type, attribute));
        }

        return new MigrationCatalog(found);
    }

    /// <summary>Finds a migration by version.</summary>
    /// <param name="version">The version.</param>
    /// <returns>The migration, or <see langword="null"/> when this build does not know it.</returns>
    public MigrationDescriptor? Find(long version) => _byVersion.GetValueOrDefault(version);

    /// <summary>
    /// This catalog as a build with the given version, for the compatibility window. A heartbeat with it also publishes the phases
    /// of the catalog's migrations (<see cref="FleetRegistry.HeartbeatAsync"/>).
    /// </summary>
    /// <param name="buildVersion">The build (application) version.</param>
    public BuildSnapshot ToBuild(string buildVersion) => new(buildVersion, Versions) { Catalog = this };
}

/// <summary>The migrations of an assembly cannot be cataloged (for example, two share a version).</summary>
public sealed class MigrationCatalogException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MigrationCatalogException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong and where.</param>
    public MigrationCatalogException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What is wrong and where.</param>
    /// <param name="innerException">The cause.</param>
    public MigrationCatalogException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
