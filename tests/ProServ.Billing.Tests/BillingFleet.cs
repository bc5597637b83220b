using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Hosting;
using ReleaseKit.Reconciliation;
using ReleaseKit.Testing;

namespace ProServ.Billing.Tests;

/// <summary>
/// Several instances of the real ProServ.Billing app, each playing a release (Release:Version), on one database, one
/// in-process ERP and one fake clock: a rolling deploy, a rollback and a contract, in one test process.
/// </summary>
internal sealed class BillingFleet : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];
    private readonly string[] _databaseArgs;

    public BillingFleet(TempDirectory directory, params string[] databaseArgs)
    {
        Directory = directory;
        _databaseArgs = databaseArgs;
        foreach (var file in new[] { "appsettings.json", "release.json", "release.failing.json" })
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, file), directory.File(file), overwrite: true);
        }
    }

    public TempDirectory Directory { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));

    public InMemoryErp Erp { get; } = new();

    /// <summary>Builds an instance of the app playing <paramref name="version"/> (not started).</summary>
    public WebApplication Create(string version, string instanceId, params string[] settings)
    {
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--Release:Version={version}",
            $"--Release:InstanceId={instanceId}",
            "--ReleaseKit:HealthMinimumSampleSize=20",
            .. _databaseArgs,
            .. settings,
        ];
        var app = BillingApp.Create(args, Directory.Path, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<TimeProvider>(Time);
            builder.Services.AddSingleton(Erp);
            builder.Services.AddSingleton<IErpGateway>(Erp);

            // The token bucket and retry delays run on the TimeProvider; under a fake clock they would wait for Advance.
            builder.Services.Configure<ReconciliationOptions>(o =>
            {
                o.MaxPostsPerSecond = null;
                o.RetryDelay = TimeSpan.Zero;
            });
        });
        _apps.Add(app);
        return app;
    }

    /// <summary>Builds, migrates (Expand and Backfill) and starts an instance; returns its HTTP client.</summary>
    public async Task<(WebApplication App, BillingClient Client)> StartAsync(string version, string instanceId, params string[] settings)
    {
        var app = Create(version, instanceId, settings);
        await BillingApp.PrepareDatabaseAsync(app, TestContext.Current.CancellationToken);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return (app, new BillingClient(new HttpClient { BaseAddress = new Uri(address) }));
    }

    /// <summary>Runs <c>releasekit ...</c> in-process against an instance's services.</summary>
    public static async Task<(int ExitCode, string Output)> ReleaseKitAsync(WebApplication app, params string[] args)
    {
        var output = new StringWriter();
        var exitCode = await ReleaseKitCommandLine.InvokeAsync(app.Services, ["releasekit", .. args], output, output, TestContext.Current.CancellationToken);
        return (exitCode, output.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}

/// <summary>The app's HTTP API, as a client sees it.</summary>
internal sealed class BillingClient(HttpClient http) : IDisposable
{
    public Uri? BaseAddress => http.BaseAddress;

    public async Task<long> FirstProjectAsync(string tenant) => (await ProjectsAsync(tenant))[0].Id;

    public async Task<List<Project>> ProjectsAsync(string tenant)
    {
        using var request = Request(HttpMethod.Get, "/projects", tenant);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<List<Project>>(TestContext.Current.CancellationToken))!;
    }

    /// <summary>Books time, approves the invoice and exports it; returns the invoice and the export's HTTP status.</summary>
    public async Task<(Invoice Invoice, int ExportStatus)> BillAsync(string tenant, long projectId, int minutes)
    {
        var ct = TestContext.Current.CancellationToken;
        using var entry = Request(HttpMethod.Post, "/time-entries", tenant);
        entry.Content = JsonContent.Create(new TimeEntryRequest(projectId, "maria", minutes, new DateOnly(2026, 12, 1)));
        using var created = await http.SendAsync(entry, ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var invoice = (await created.Content.ReadFromJsonAsync<Invoice>(ct))!;

        using var approve = Request(HttpMethod.Post, $"/invoices/{invoice.Id}/approve", tenant);
        approve.Content = JsonContent.Create(new ApprovalRequest("bob"));
        using var approved = await http.SendAsync(approve, ct);
        approved.EnsureSuccessStatusCode();

        using var export = Request(HttpMethod.Post, $"/invoices/{invoice.Id}/export", tenant);
        using var exported = await http.SendAsync(export, ct);
        return (invoice, (int)exported.StatusCode);
    }

    public void Dispose() => http.Dispose();

    private static HttpRequestMessage Request(HttpMethod method, string path, string tenant)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add(BillingApp.TenantHeader, tenant);
        return request;
    }
}
