using System.Data;
using System.Data.Common;

namespace ReleaseKit.Gates;

/// <summary>The SQL dialects ReleaseKit's database stores speak.</summary>
public enum SqlDialect
{
    /// <summary>SQLite (3.35 or later: the stores use <c>RETURNING</c>), for example through Microsoft.Data.Sqlite.</summary>
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

    /// <summary>
    /// The placeholder for the parameter at <paramref name="position"/> (from 1): <c>$1</c> on PostgreSQL (Npgsql's
    /// positional parameters), <c>@p1</c> on SQLite. Pair it with <see cref="AddParameter"/>.
    /// </summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="position">The parameter's position, from 1.</param>
    /// <returns>The placeholder to write in the SQL text.</returns>
    public static string Placeholder(this SqlDialect dialect, int position) =>
        dialect == SqlDialect.PostgreSql ? $"${position}" : $"@p{position}";

    /// <summary>Adds the parameter for <see cref="Placeholder"/> at <paramref name="position"/>: unnamed on PostgreSQL, <c>@p{position}</c> on SQLite; <see langword="null"/> becomes <see cref="DBNull"/>.</summary>
    /// <param name="command">The command.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="position">The parameter's position, from 1; add parameters in position order.</param>
    /// <param name="value">The value.</param>
    /// <param name="type">The parameter's type.</param>
    public static void AddParameter(this DbCommand command, SqlDialect dialect, int position, object? value, DbType type = DbType.String)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        if (dialect == SqlDialect.Sqlite)
        {
            parameter.ParameterName = $"@p{position}";
        }

        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    internal static void ThrowIfUndefined(SqlDialect dialect, string parameterName)
    {
        if (!Enum.IsDefined(dialect))
        {
            throw new ArgumentOutOfRangeException(parameterName, dialect, "Unknown SQL dialect; allowed values are Sqlite and PostgreSql.");
        }
    }
}
