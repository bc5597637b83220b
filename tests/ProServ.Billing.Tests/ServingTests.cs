using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ReleaseKit.Testing;

namespace ProServ.Billing.Tests;

/// <summary>The sample serving HTTP: tenants resolved by ReleaseKit.Hosting.AspNetCore, the readiness probe, and <c>releasekit rehearse</c> on its database.</summary>
public sealed class ServingTests
{
    [Fact]
    public async Task A_request_for_an_unknown_tenant_gets_problem_details_and_no_data()
    {
        using var directory = new TempDirectory();
        await using var fleet = new BillingFleet(directory, $"--ConnectionStrings:Billing=Data Source={directory.File("billing.db")}");
        var (_, client) = await fleet.StartAsync("2026.12.1", "web-1");
        using (client)
        {
            using var http = new HttpClient { BaseAddress = client.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/projects");
            request.Headers.Add(BillingApp.TenantHeader, "initech");
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal("initech", problem.RootElement.GetProperty("tenantId").GetString());

            using var none = await http.GetAsync("/projects", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);

            // A known tenant sees its own projects only.
            var projects = await client.ProjectsAsync("northwind-labs");
            Assert.NotEmpty(projects);
            Assert.All(projects, p => Assert.Equal("northwind-labs", p.TenantId));
        }
    }

    [Fact]
    public async Task The_readiness_probe_runs_the_startup_gates_without_a_tenant()
    {
        using var directory = new TempDirectory();
        await using var fleet = new BillingFleet(directory, $"--ConnectionStrings:Billing=Data Source={directory.File("billing.db")}");
        var (_, client) = await fleet.StartAsync("2026.12.1", "web-1");
        using (client)
        {
            using var http = new HttpClient { BaseAddress = client.BaseAddress };
            using var ready = await http.GetAsync("/ready", TestContext.Current.CancellationToken);
            Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task Rehearsing_the_next_release_on_a_copy_passes_and_leaves_the_database_as_it_was()
    {
        using var directory = new TempDirectory();
        var database = directory.File("billing.db");
        await using var fleet = new BillingFleet(directory, $"--ConnectionStrings:Billing=Data Source={database}");

        // Release N's schema, as production has it before the deploy.
        var (n, client) = await fleet.StartAsync("2026.11.1", "web-n");
        client.Dispose();
        await n.StopAsync(TestContext.Current.CancellationToken);
        var before = await File.ReadAllBytesAsync(database, TestContext.Current.CancellationToken);

        // Release N+1 rehearses its Expand + Backfill: after apply it reads erp_document_no, after rollback N reads its columns.
        var next = fleet.Create("2026.12.1", "ci-rehearsal");
        var (exitCode, output) = await BillingFleet.ReleaseKitAsync(next, "rehearse");
        Assert.True(exitCode == 0, output);
        Assert.Contains(InvoiceColumnsCheck.Name, output, StringComparison.Ordinal);
        Assert.Contains("after-rollback", output, StringComparison.Ordinal);
        Assert.Contains("2026.11.1", output, StringComparison.Ordinal); // the previous build's expectations were checked
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.Equal(before, await File.ReadAllBytesAsync(database, TestContext.Current.CancellationToken));
    }
}
