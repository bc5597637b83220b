using Microsoft.Data.Sqlite;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Migrations.Tests;

/// <summary>The SQLite copy behind <see cref="RollbackRehearsal"/> and <c>releasekit rehearse</c>: it leaves nothing behind, and says when it does.</summary>
public sealed class DatabaseCopyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A SQLite original with the driver's defaults (pooling on), holding one table and one row.</summary>
    private static async Task<Microsoft.Data.Sqlite.SqliteConnectionStringBuilder> OriginalAsync(TempDirectory directory, string name)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = directory.File(name) };
        await using var connection = new SqliteConnection(builder.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE item (id INTEGER PRIMARY KEY); INSERT INTO item VALUES (1);";
        await command.ExecuteNonQueryAsync(Ct);
        return builder;
    }

    private static string[] CopyFilesOf(string originalName) =>
        Directory.GetFiles(Path.GetTempPath(), $"{Path.GetFileNameWithoutExtension(originalName)}.rehearsal-*");

    [Fact]
    public async Task A_SQLite_copy_is_opened_without_pooling_so_no_handle_to_it_outlives_the_drop()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Reads the process's open files from /proc/self/fd (Linux only).");
        }

        using var directory = new TempDirectory();
        var original = await OriginalAsync(directory, $"pooled-{Guid.NewGuid():N}.db");
        await using var source = SqliteFactory.Instance.CreateDataSource(original.ConnectionString);
        var copy = await DatabaseCopy.CreateAsync(source, SqlDialect.Sqlite, null, "postgres", Ct);

        // Used the way the rehearsal uses it: a data source on the copy's connection string, a connection opened and closed.
        await using (var copySource = DatabaseCopy.ProviderFactory(source).CreateDataSource(copy.ConnectionString))
        {
            await using var connection = await copySource.OpenConnectionAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM item";
            Assert.Equal(1L, Convert.ToInt64(await command.ExecuteScalarAsync(Ct)));
        }

        await copy.Drop();

        Assert.False(File.Exists(copy.Name));
        var stillOpen = new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(fd => { try { return fd.LinkTarget; } catch (IOException) { return null; } })
            .Where(target => target is not null && target.StartsWith(copy.Name, StringComparison.Ordinal))
            .ToArray();
        Assert.True(stillOpen.Length == 0, $"Still open after the drop: {string.Join(", ", stillOpen)}");
    }

    [Fact]
    public async Task A_SQLite_copy_that_fails_half_way_leaves_no_file_in_the_temp_folder()
    {
        using var directory = new TempDirectory();
        var name = $"locked-{Guid.NewGuid():N}.db";
        var original = await OriginalAsync(directory, name);
        original.DefaultTimeout = 1;
        await using var source = SqliteFactory.Instance.CreateDataSource(original.ConnectionString);
        try
        {
            // A pooled connection that has read the schema, so VACUUM INTO gets as far as creating its output file...
            await using (var warm = await source.OpenConnectionAsync(Ct))
            {
                await using var read = warm.CreateCommand();
                read.CommandText = "SELECT COUNT(*) FROM item";
                await read.ExecuteScalarAsync(Ct);
            }

            // ...before it finds the original held exclusively by another process, and gives up busy.
            await using var holder = new SqliteConnection(new SqliteConnectionStringBuilder(original.ConnectionString) { Pooling = false }.ConnectionString);
            await holder.OpenAsync(Ct);
            await using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync(Ct);
            }

            await Assert.ThrowsAnyAsync<SqliteException>(() => DatabaseCopy.CreateAsync(source, SqlDialect.Sqlite, null, "postgres", Ct));

            Assert.Empty(CopyFilesOf(name));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
        }
    }

    [Fact]
    public async Task Dropping_a_SQLite_copy_tries_every_file_and_reports_the_ones_it_could_not_delete()
    {
        using var directory = new TempDirectory();
        var original = await OriginalAsync(directory, $"undeletable-{Guid.NewGuid():N}.db");
        original.Pooling = false;
        await using var source = SqliteFactory.Instance.CreateDataSource(original.ConnectionString);
        var copy = await DatabaseCopy.CreateAsync(source, SqlDialect.Sqlite, null, "postgres", Ct);

        // A -wal "file" that cannot be deleted (a folder in its place) stands for any file the system refuses to delete.
        var wal = Directory.CreateDirectory(copy.Name + "-wal");
        await File.WriteAllTextAsync(Path.Combine(wal.FullName, "keep"), "x", Ct);
        var journal = copy.Name + "-journal";
        await File.WriteAllTextAsync(journal, "x", Ct);
        try
        {
            var error = await Assert.ThrowsAsync<IOException>(copy.Drop);

            Assert.Contains(copy.Name + "-wal", error.Message);
            Assert.False(File.Exists(copy.Name));
            Assert.False(File.Exists(journal), "the files after the one that failed are still deleted");
        }
        finally
        {
            wal.Delete(recursive: true);
        }
    }
}
