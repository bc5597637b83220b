using System.Reflection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations;

/// <summary>Options of <c>AddMigrations</c>.</summary>
public sealed class ReleaseKitMigrationsOptions
{
    /// <summary>The assembly holding the application's FluentMigrator migrations. Required.</summary>
    public Assembly? MigrationsAssembly { get; set; }

    /// <summary>Only migrations in this namespace or below it; <see langword="null"/> for all.</summary>
    public string? Namespace { get; set; }

    /// <summary>The version of this build (the application version). Required.</summary>
    public string? BuildVersion { get; set; }

    /// <summary>This instance's id in the fleet registry. Default: machine name and process id.</summary>
    public string InstanceId { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>The host name recorded in the fleet registry. Default: the machine name.</summary>
    public string Host { get; set; } = Environment.MachineName;

    /// <summary>The SQL dialect of the database; <see langword="null"/> to detect it from the <see cref="System.Data.Common.DbDataSource"/>.</summary>
    public SqlDialect? Dialect { get; set; }

    /// <summary>An instance not seen for this long is no longer live. Default 2 minutes.</summary>
    public TimeSpan InstanceExpiry { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a migrator waits for the fleet-wide migration lock. Default 1 minute.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>FluentMigrator's version table. Default <c>VersionInfo</c>.</summary>
    public string VersionTableName { get; set; } = "VersionInfo";

    /// <summary>The schema of FluentMigrator's version table; <see langword="null"/> for the connection's default.</summary>
    public string? VersionTableSchema { get; set; }
}

internal sealed class ReleaseKitMigrationsOptionsValidator : IValidateOptions<ReleaseKitMigrationsOptions>
{
    public ValidateOptionsResult Validate(string? name, ReleaseKitMigrationsOptions options)
    {
        var failures = new List<string>();
        if (options.MigrationsAssembly is null)
        {
            failures.Add("ReleaseKitMigrationsOptions.MigrationsAssembly is required: set it to the assembly holding the FluentMigrator migrations.");
        }

        if (string.IsNullOrWhiteSpace(options.BuildVersion))
        {
            failures.Add("ReleaseKitMigrationsOptions.BuildVersion is required: set it to the application version (for example 2026.1.3).");
        }

        if (string.IsNullOrWhiteSpace(options.InstanceId))
        {
            failures.Add("ReleaseKitMigrationsOptions.InstanceId must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.Host))
        {
            failures.Add("ReleaseKitMigrationsOptions.Host must not be empty.");
        }

        if (options.Dialect is { } dialect && !Enum.IsDefined(dialect))
        {
            failures.Add($"ReleaseKitMigrationsOptions.Dialect is {dialect}; allowed values are Sqlite and PostgreSql (or null to detect).");
        }

        if (options.InstanceExpiry <= TimeSpan.Zero)
        {
            failures.Add($"ReleaseKitMigrationsOptions.InstanceExpiry is {options.InstanceExpiry}; it must be positive.");
        }

        if (options.LockTimeout <= TimeSpan.Zero)
        {
            failures.Add($"ReleaseKitMigrationsOptions.LockTimeout is {options.LockTimeout}; it must be positive.");
        }

        if (string.IsNullOrWhiteSpace(options.VersionTableName))
        {
            failures.Add("ReleaseKitMigrationsOptions.VersionTableName must not be empty (FluentMigrator's default is VersionInfo).");
        }

        if (options.VersionTableSchema is { } schema && string.IsNullOrWhiteSpace(schema))
        {
            failures.Add("ReleaseKitMigrationsOptions.VersionTableSchema must be null (the connection's default schema) or a schema name, not empty.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
