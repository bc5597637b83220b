using Microsoft.Extensions.Logging;
using ReleaseKit.Testing;

namespace ProServ.Billing.Tests;

/// <summary>The README's main job, <c>releasekit check</c>, run in-process against the sample on a fresh folder.</summary>
public sealed class ReleaseKitCheckTests
{
    [Fact]
    public async Task Check_passes_on_a_fresh_folder_and_creates_the_sqlite_database()
    {
        using var directory = new TempDirectory();
        await using var fleet = new BillingFleetForCheck(directory);
        var (exitCode, output) = await BillingFleet.ReleaseKitAsync(fleet.App, "check");
        Assert.True(exitCode == 0, output);
        Assert.Contains("schema-compatibility", output, StringComparison.Ordinal);
        Assert.True(File.Exists(directory.File("proserv-billing.db")), "the SQLite file is created on first run");
    }

    [Fact]
    public async Task Check_fails_the_shipped_failing_manifest()
    {
        using var directory = new TempDirectory();
        await using var fleet = new BillingFleetForCheck(directory);
        var (exitCode, output) = await BillingFleet.ReleaseKitAsync(fleet.App, "check", "--manifest", directory.File("release.failing.json"));
        Assert.True(exitCode == 1, output);
        Assert.Contains("manifest-completeness", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_is_a_configuration_error_for_an_unknown_database_provider()
    {
        using var directory = new TempDirectory();
        await using var fleet = new BillingFleetForCheck(directory, "--Database:Provider=mysql");
        var (exitCode, output) = await BillingFleet.ReleaseKitAsync(fleet.App, "check");
        Assert.True(exitCode == 2, output);
        Assert.Contains("Database:Provider", output, StringComparison.Ordinal);
    }

    /// <summary>The app as a fresh clone has it: its own appsettings.json and release.json, no database yet, the real clock.</summary>
    private sealed class BillingFleetForCheck : IAsyncDisposable
    {
        public BillingFleetForCheck(TempDirectory directory, params string[] args)
        {
            foreach (var file in new[] { "appsettings.json", "release.json", "release.failing.json" })
            {
                File.Copy(Path.Combine(AppContext.BaseDirectory, file), directory.File(file));
            }

            App = BillingApp.Create(args, directory.Path, b => b.Logging.ClearProviders());
        }

        public Microsoft.AspNetCore.Builder.WebApplication App { get; }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }
}
