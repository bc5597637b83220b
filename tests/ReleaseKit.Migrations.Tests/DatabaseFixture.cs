using System.Data.Common;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Migrations.Tests;

/// <summary>One real database (SQLite file or PostgreSQL) with FluentMigrator's runner configured for a namespace of migrations.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly TempDirectory? _directory;
    private readonly PostgresDatabase? _postgres;

    private TestDatabase(SqlDialect dialect, DbDataSource dataSource, TempDirectory? directory, PostgresDatabase? postgres)
    {
        Dialect = dialect;
        DataSource = dataSource;
        _directory = directory;
        _postgres = postgres;
    }

    public SqlDialect Dialect { get; }

    public DbDataSource DataSource { get; }

    public static async Task<TestDatabase> CreateAsync(SqlDialect dialect)
    {
        if (dialect == SqlDialect.Sqlite)
        {
            var directory = new TempDirectory();
            return new TestDatabase(dialect, Databases.Sqlite(directory), directory, null);
        }

        var postgres = await Databases.PostgresAsync();
        return new TestDatabase(dialect, postgres.DataSource, null, postgres);
    }

    public ServiceProvider RunnerServices(string migrationsNamespace) => RunnerServices(Dialect, DataSource.ConnectionString, migrationsNamespace);

    public static ServiceProvider RunnerServices(SqlDialect dialect, string connectionString, string migrationsNamespace)
    {
        var services = new ServiceCollection();
        services.AddFluentMigratorCore().ConfigureRunner(rb =>
        {
            if (dialect == SqlDialect.Sqlite)
            {
                rb.AddSQLite();
            }
            else
            {
                rb.AddPostgres();
            }

            rb.WithGlobalConnectionString(connectionString).ScanIn(typeof(TestDatabase).Assembly).For.Migrations();
        });
        services.Configure<TypeFilterOptions>(o =>
        {
            o.Namespace = migrationsNamespace;
            o.NestedNamespaces = true;
        });
        return services.BuildServiceProvider();
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public async Task<bool> TableExistsAsync(string table) => Dialect == SqlDialect.Sqlite
        ? await ScalarAsync($"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'") > 0
        : await ScalarAsync($"SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '{table}'") > 0;

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        else
        {
            await DataSource.DisposeAsync();
            _directory?.Dispose();
        }
    }
}
