using System.Data;
using System.Data.Common;
using ReleaseKit.Gates;

namespace ReleaseKit.Migrations.Internal;

/// <summary>Parameterised SQL for both dialects: PostgreSQL (Npgsql) takes positional $1, SQLite named @p1.</summary>
internal static class Db
{
    public static SqlDialect Detect(DbDataSource dataSource) => SqlDialects.Detect(dataSource);

    /// <summary>A typed NULL of a BIGINT column (PostgreSQL refuses an untyped text NULL there).</summary>
    public static readonly object NullInt64 = new();

    public static string P(SqlDialect dialect, int position) => dialect == SqlDialect.PostgreSql ? $"${position}" : $"@p{position}";

    public static DbCommand Command(DbConnection connection, SqlDialect dialect, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            var parameter = command.CreateParameter();
            if (dialect == SqlDialect.Sqlite)
            {
                parameter.ParameterName = $"@p{i + 1}";
            }

            var value = values[i];
            if (ReferenceEquals(value, NullInt64))
            {
                parameter.DbType = DbType.Int64;
                parameter.Value = DBNull.Value;
                command.Parameters.Add(parameter);
                continue;
            }

            parameter.DbType = value switch
            {
                long => DbType.Int64,
                int => DbType.Int32,
                _ => DbType.String,
            };
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
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
