using System.Data.Common;
using Microsoft.Data.Sqlite;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

/// <summary>The shared once-only table creation the database stores use, on real SQLite and PostgreSQL.</summary>
public sealed class SqlSchemaInitializerTests
{
    private const string Create = "CREATE TABLE IF NOT EXISTS rk_schema_probe (id BIGINT NOT NULL PRIMARY KEY)";

    private static async Task<long> CountTablesAsync(DbDataSource dataSource, SqlDialect dialect)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = dialect == SqlDialect.PostgreSql
            ? "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'rk_schema_probe'"
            : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'rk_schema_probe'";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Instances_racing_on_postgres_create_the_table_once_without_an_error()
    {
        await using var database = await Databases.PostgresAsync();

        // Separate initializers, as separate processes starting together would have.
        var racing = Enumerable.Range(0, 12).Select(_ => new SqlSchemaInitializer(database.DataSource, SqlDialect.PostgreSql, 4242, Create).EnsureCreatedAsync(TestContext.Current.CancellationToken));
        await Task.WhenAll(racing);

        Assert.Equal(1, await CountTablesAsync(database.DataSource, SqlDialect.PostgreSql));
    }

    [Fact]
    public async Task A_failed_attempt_is_retried_by_the_next_call()
    {
        using var directory = new TempDirectory();
        var path = directory.File("missing-folder/store.db");
        await using var dataSource = SqliteFactory.Instance.CreateDataSource($"Data Source={path};Pooling=False");
        var schema = new SqlSchemaInitializer(dataSource, SqlDialect.Sqlite, 1, Create);

        await Assert.ThrowsAsync<SqliteException>(() => schema.EnsureCreatedAsync(TestContext.Current.CancellationToken));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await schema.EnsureCreatedAsync(TestContext.Current.CancellationToken);
        await schema.EnsureCreatedAsync(TestContext.Current.CancellationToken);

        Assert.Equal(1, await CountTablesAsync(dataSource, SqlDialect.Sqlite));
    }

    [Fact]
    public void No_statement_or_a_blank_one_is_refused()
    {
        using var directory = new TempDirectory();
        var dataSource = Databases.Sqlite(directory);

        Assert.Throws<ArgumentException>(() => new SqlSchemaInitializer(dataSource, SqlDialect.Sqlite, 1));
        Assert.Throws<ArgumentException>(() => new SqlSchemaInitializer(dataSource, SqlDialect.Sqlite, 1, Create, " "));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqlSchemaInitializer(dataSource, (SqlDialect)7, 1, Create));
    }
}
