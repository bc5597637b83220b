using System.Data.Common;
using System.Globalization;
using ReleaseKit.Gates;
using ReleaseKit.Migrations.Internal;

namespace ReleaseKit.Migrations;

/// <summary>
/// A throwaway copy of a database: a SQLite <c>VACUUM INTO</c> file in the temp folder, or a PostgreSQL
/// <c>CREATE DATABASE ... TEMPLATE</c> created from (and dropped from) the maintenance database. The original is only read.
/// Used by <see cref="RollbackRehearsal"/> and by <c>releasekit rehearse</c>.
/// </summary>
/// <param name="Name">The copy's file path or database name.</param>
/// <param name="ConnectionString">The copy's connection string.</param>
/// <param name="Drop">
/// Deletes the copy. SQLite: deletes the file and its -wal, -shm and -journal files (the copy's connection string has
/// <c>Pooling=False</c>, so no pooled connection keeps them open) and throws an <see cref="IOException"/> naming every file it
/// could not delete. PostgreSQL: ends the copy's sessions, then <c>DROP DATABASE</c>
/// (no <c>WITH (FORCE)</c>, so PostgreSQL 12 works); it throws when the drop fails, so callers drop in a try/catch that logs.
/// </param>
internal sealed record DatabaseCopy(string Name, string ConnectionString, Func<Task> Drop)
{
    /// <summary>Copies the database of <paramref name="dataSource"/>.</summary>
    /// <param name="dataSource">The original database (only read).</param>
    /// <param name="dialect">Its dialect.</param>
    /// <param name="connectionString">The original's connection string when the data source hides its password; <see langword="null"/> for the data source's.</param>
    /// <param name="maintenanceDatabase">PostgreSQL: the database the copy is created from and dropped from.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <exception cref="InvalidOperationException">The copy cannot be made (in-memory SQLite; PostgreSQL sessions on the original).</exception>
    public static Task<DatabaseCopy> CreateAsync(DbDataSource dataSource, SqlDialect dialect, string? connectionString, string maintenanceDatabase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrWhiteSpace(maintenanceDatabase);
        var original = connectionString ?? dataSource.ConnectionString;
        return dialect == SqlDialect.Sqlite
            ? CopySqliteAsync(dataSource, dialect, original, cancellationToken)
            : CopyPostgresAsync(ProviderFactory(dataSource), dialect, original, maintenanceDatabase, cancellationToken);
    }

    /// <summary>The ADO.NET provider factory of a data source's connections, to open the copy with the same driver.</summary>
    public static DbProviderFactory ProviderFactory(DbDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        using var connection = dataSource.CreateConnection();
        return DbProviderFactories.GetFactory(connection)
            ?? throw new InvalidOperationException($"The data source's connection type {connection.GetType().FullName} exposes no DbProviderFactory; the copy cannot be opened.");
    }

    private static async Task<DatabaseCopy> CopySqliteAsync(DbDataSource dataSource, SqlDialect dialect, string original, CancellationToken cancellationToken)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = original };
        var key = new[] { "Data Source", "DataSource", "Filename" }.FirstOrDefault(builder.ContainsKey)
            ?? throw new InvalidOperationException("The SQLite connection string names no file (Data Source); a copy needs a file database.");
        var path = Convert.ToString(builder[key], CultureInfo.InvariantCulture) ?? string.Empty;
        if (path.Length == 0 || path.Equals(":memory:", StringComparison.OrdinalIgnoreCase) || path.StartsWith("file::memory:", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The SQLite database '{path}' is in memory; a copy needs a file database.");
        }

        var copyPath = Path.Combine(Path.GetTempPath(), $"{Path.GetFileNameWithoutExtension(path)}.rehearsal-{Guid.NewGuid():N}.db");
        string[] files = [copyPath, copyPath + "-wal", copyPath + "-shm", copyPath + "-journal"];
        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                // VACUUM INTO writes a consistent copy of the database as of one read transaction, even while others write.
                await Db.ExecuteAsync(connection, dialect, "VACUUM INTO @p1", cancellationToken, copyPath).ConfigureAwait(false);
            }
        }
        catch
        {
            // A copy that failed or was cancelled half-way is not left in the temp folder (the path is new, so the file is ours).
            TryDelete(files, out _);
            throw;
        }

        // No pooling: a pooled connection would keep the copy's file open after the rehearsal, so deleting it would not free
        // the space (Unix) or would fail (Windows).
        builder[key] = copyPath;
        builder["Pooling"] = "False";
        // Drop tries every file and reports the ones left, so the caller can say what to remove by hand.
        return new DatabaseCopy(copyPath, builder.ConnectionString, () => TryDelete(files, out var left)
            ? Task.CompletedTask
            : Task.FromException(new IOException($"The rehearsal copy's files could not all be deleted: {string.Join("; ", left)}.")));
    }

    private static bool TryDelete(string[] files, out List<string> left)
    {
        left = [];
        foreach (var file in files)
        {
            try
            {
                File.Delete(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                left.Add($"{file} ({ex.Message})");
            }
        }

        return left.Count == 0;
    }

    private static async Task<DatabaseCopy> CopyPostgresAsync(DbProviderFactory factory, SqlDialect dialect, string original, string maintenanceDatabase, CancellationToken cancellationToken)
    {
        var builder = factory.CreateConnectionStringBuilder() ?? new DbConnectionStringBuilder();
        builder.ConnectionString = original;
        var database = Convert.ToString(builder["Database"], CultureInfo.InvariantCulture);
        if (string.IsNullOrWhiteSpace(database))
        {
            throw new InvalidOperationException("The PostgreSQL connection string names no Database; a copy needs it.");
        }

        var copyName = $"rk_rehearsal_{Guid.NewGuid():N}";
        builder["Database"] = maintenanceDatabase;
        var admin = builder.ConnectionString;
        builder["Database"] = copyName;
        var copyConnectionString = builder.ConnectionString;

        async Task AdminAsync(string sql, CancellationToken ct)
        {
            var connection = factory.CreateConnection() ?? throw new InvalidOperationException("The provider factory creates no connection.");
            await using (connection.ConfigureAwait(false))
            {
                connection.ConnectionString = admin;
                await connection.OpenAsync(ct).ConfigureAwait(false);
                await Db.ExecuteAsync(connection, dialect, sql, ct).ConfigureAwait(false);
            }
        }

        try
        {
            await AdminAsync($"CREATE DATABASE {QuoteIdentifier(copyName)} TEMPLATE {QuoteIdentifier(database)}", cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex) when (ex.SqlState == "55006")
        {
            throw new InvalidOperationException(
                $"Cannot copy PostgreSQL database {database}: CREATE DATABASE ... TEMPLATE needs no other session on it ({ex.Message}). "
                + $"Close the app's pooled connections (NpgsqlDataSource.Clear()), or rehearse against a restored backup or replica; see SELECT pid, application_name FROM pg_stat_activity WHERE datname = '{database}'.",
                ex);
        }

        // DROP DATABASE ... WITH (FORCE) needs PostgreSQL 13; end the copy's sessions first and drop without it (12 and later).
        var terminate = $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{copyName}' AND pid <> pg_backend_pid()";
        var drop = $"DROP DATABASE IF EXISTS {QuoteIdentifier(copyName)}";
        return new DatabaseCopy(copyName, copyConnectionString, async () =>
        {
            await AdminAsync(terminate, CancellationToken.None).ConfigureAwait(false);
            try
            {
                await AdminAsync(drop, CancellationToken.None).ConfigureAwait(false);
            }
            catch (DbException ex) when (ex.SqlState == "55006")
            {
                // A pooled connection reconnected between the two statements: end it again.
                await AdminAsync(terminate, CancellationToken.None).ConfigureAwait(false);
                await AdminAsync(drop, CancellationToken.None).ConfigureAwait(false);
            }
        });
    }

    private static string QuoteIdentifier(string name) => $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
