using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Reflection;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations.Internal;

/// <summary>Parameterised SQL for both dialects: PostgreSQL (Npgsql) takes positional $1, SQLite named @p1.</summary>
internal static class Db
{
    public static SqlDialect Detect(DbDataSource dataSource) => SqlDialects.Detect(dataSource);

    /// <summary>A typed NULL of a BIGINT column (PostgreSQL refuses an untyped text NULL there).</summary>
    public static readonly object NullInt64 = new();

    private static readonly ConcurrentDictionary<Type, PropertyInfo?> SqliteErrorCodeProperties = new();

    /// <summary>
    /// The primary SQLite result code of a driver exception (5 busy, 6 locked, ...), or <see langword="null"/> when the exception
    /// carries none. Microsoft.Data.Sqlite puts it in <c>SqliteException.SqliteErrorCode</c>; <c>DbException.ErrorCode</c>
    /// is the HResult there. Read by reflection because the package references no database driver.
    /// </summary>
    public static int? SqliteErrorCode(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is not DbException)
            {
                continue;
            }

            var property = SqliteErrorCodeProperties.GetOrAdd(current.GetType(), static type => type.GetProperty("SqliteErrorCode", BindingFlags.Public | BindingFlags.Instance) is { PropertyType: var t } p && t == typeof(int) ? p : null);
            if (property?.GetValue(current) is int code)
            {
                return code & 0xFF;
            }
        }

        return null;
    }

    /// <summary>Whether an exception is SQLite's busy (5) or locked (6): another connection holds the lock.</summary>
    public static bool IsSqliteBusy(Exception exception) => SqliteErrorCode(exception) is 5 or 6;

    public static string P(SqlDialect dialect, int position) => dialect.Placeholder(position);

    public static DbCommand Command(DbConnection connection, SqlDialect dialect, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i];
            var type = value switch
            {
                _ when ReferenceEquals(value, NullInt64) => DbType.Int64,
                long => DbType.Int64,
                int => DbType.Int32,
                _ => DbType.String,
            };
            command.AddParameter(dialect, i + 1, ReferenceEquals(value, NullInt64) ? null : value, type);
        }

        return command;
    }

    public static async Task<int> ExecuteAsync(DbConnection connection, SqlDialect dialect, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        var command = Command(connection, dialect, sql, values);
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task<object?> ScalarAsync(DbConnection connection, SqlDialect dialect, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        var command = Command(connection, dialect, sql, values);
        await using (command.ConfigureAwait(false))
        {
            var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return result is DBNull ? null : result;
        }
    }
}
