using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace ReleaseKit.Testing;

/// <summary>
/// Real databases for tests: a SQLite file in a temp folder, or a fresh database on the throwaway PostgreSQL
/// server that eng/test.sh starts (its connection string is in RELEASEKIT_POSTGRES).
/// </summary>
public static class Databases
{
    /// <summary>The environment variable holding the PostgreSQL connection string.</summary>
    public const string PostgresVariable = "RELEASEKIT_POSTGRES";

    /// <summary>The skip reason every PostgreSQL test uses; .ci/run fails when it finds it in a test report.</summary>
    public const string PostgresSkipReason = "PostgreSQL is not configured: set RELEASEKIT_POSTGRES (eng/test.sh starts a server and sets it).";

    /// <summary>Creates a SQLite data source on a new file in <paramref name="directory"/>.</summary>
    public static DbDataSource Sqlite(TempDirectory directory, string name = "test.db")
    {
        ArgumentNullException.ThrowIfNull(directory);
        var builder = new SqliteConnectionStringBuilder { DataSource = directory.File(name), Pooling = false, DefaultTimeout = 30 };
        return SqliteFactory.Instance.CreateDataSource(builder.ConnectionString);
    }

    /// <summary>Creates a new, empty PostgreSQL database and returns a data source for it; skips the test when no server is configured.</summary>
    public static async Task<PostgresDatabase> PostgresAsync()
    {
        var connectionString = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            Assert.Skip(PostgresSkipReason);
        }

        var name = "rk_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(connectionString))
        {
            await admin.OpenAsync();
            await using var command = admin.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name}";
            await command.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = name };
        return new PostgresDatabase(connectionString, name, NpgsqlDataSource.Create(builder.ConnectionString));
    }
}

/// <summary>A throwaway PostgreSQL database, dropped on dispose.</summary>
public sealed class PostgresDatabase(string adminConnectionString, string name, NpgsqlDataSource dataSource) : IAsyncDisposable
{
    public string Name { get; } = name;

    public NpgsqlDataSource DataSource { get; } = dataSource;

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(adminConnectionString);
        await admin.OpenAsync();
        await using var command = admin.CreateCommand();
        command.CommandText = $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)";
        await command.ExecuteNonQueryAsync();
    }
}
