using System.Data.Common;

namespace ReleaseKit.Gates;

/// <summary>The SQL dialects ReleaseKit's database stores speak.</summary>
public enum SqlDialect
{
    /// <summary>SQLite (3.24 or later), for example through Microsoft.Data.Sqlite.</summary>
    Sqlite = 0,

    /// <summary>PostgreSQL (12 or later), for example through Npgsql.</summary>
    PostgreSql = 1,
}

/// <summary>Helpers for <see cref="SqlDialect"/>, shared by every ReleaseKit database store.</summary>
public static class SqlDialects
{
    /// <summary>Tells the dialect of a <see cref="DbDataSource"/> from its connection and data source type names, without referencing any driver.</summary>
    /// <param name="dataSource">The data source.</param>
    /// <returns>The dialect.</returns>
    /// <exception cref="ArgumentException">The types name neither SQLite nor PostgreSQL; pass the dialect explicitly.</exception>
    public static SqlDialect Detect(DbDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        string connectionType;
        using (var connection = dataSource.CreateConnection())
        {
            connectionType = connection.GetType().FullName ?? connection.GetType().Name;
        }

        var sourceType = dataSource.GetType().FullName ?? dataSource.GetType().Name;
        foreach (var name in (ReadOnlySpan<string>)[connectionType, sourceType])
        {
            if (name.Contains("Npgsql", StringComparison.OrdinalIgnoreCase) || name.Contains("Postgre", StringComparison.OrdinalIgnoreCase))
            {
                return SqlDialect.PostgreSql;
            }

            if (name.Contains("Sqlite", StringComparison.OrdinalIgnoreCase))
            {
                return SqlDialect.Sqlite;
            }
        }

        throw new ArgumentException(
            $"Cannot tell the SQL dialect of a data source of type {sourceType} (connection type {connectionType}); pass SqlDialect.Sqlite or SqlDialect.PostgreSql explicitly.",
            nameof(dataSource));
    }

    internal static void ThrowIfUndefined(SqlDialect dialect, string parameterName)
    {
        if (!Enum.IsDefined(dialect))
        {
            throw new ArgumentOutOfRangeException(parameterName, dialect, "Unknown SQL dialect; allowed values are Sqlite and PostgreSql.");
        }
    }
}
