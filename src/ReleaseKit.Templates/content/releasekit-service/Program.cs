using FluentMigrator.Runner;
using Microsoft.Data.Sqlite;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext;

var builder = WebApplication.CreateBuilder(args);

// The application's database: a SQLite file in the content root, next to appsettings.json and release.json, whatever the
// working directory (set ConnectionStrings:Default to move it; a relative path is taken from the content root).
var sqlite = new SqliteConnectionStringBuilder(builder.Configuration.GetConnectionString("Default") ?? "Data Source=ReleaseKitService.db");
if (!Path.IsPathRooted(sqlite.DataSource) && sqlite.DataSource != ":memory:")
{
    sqlite.DataSource = Path.Combine(builder.Environment.ContentRootPath, sqlite.DataSource);
}

var connectionString = sqlite.ConnectionString;
builder.Services.AddSingleton<System.Data.Common.DbDataSource>(SqliteFactory.Instance.CreateDataSource(connectionString));
builder.Services.AddFluentMigratorCore().ConfigureRunner(runner => runner
    .AddSQLite()
    .WithGlobalConnectionString(connectionString)
    .ScanIn(typeof(Program).Assembly).For.Migrations());

builder.Services.AddReleaseKit()
    .AddHosting(o => o.ManifestPath = "release.json")                      // what `releasekit check` and readiness read
    .AddDeploymentMarker()                                                  // activity event, log entry, gauge on start
    .AddMigrations(o =>
    {
        o.MigrationsAssembly = typeof(Program).Assembly;
        o.BuildVersion = "1.0.0";                                           // keep in step with release.json's version
    })
    .AddTenantContext(o => o
        .ResolveFrom(TenantSourceKind.Header, "X-Tenant-Id")
        .AddTenant("acme")
        .AddTenant("globex"))
    .AddGates(g => g
        .AddManifestCompletenessGate()
        .AddApprovalsGate(policy => policy
            .Require(ChangeClasses.SchemaMigration, 2)
            .Require(ChangeClasses.BillingLogic, 2))
        .AddMigrationGates());                                              // schema-compatibility, contract-safety, lint
builder.Services.AddHealthChecks().AddReleaseKitReadiness();

var app = builder.Build();
if (await app.RunReleaseKitCommandAsync(args)) return;                     // dotnet run -- releasekit check

app.UseReleaseKitTenants();                                                 // /health and /ready need no tenant
app.MapReleaseKitReadiness("/ready");
app.MapGet("/health", () => "alive");
app.MapGet("/hello", (ITenantContextAccessor tenants) => $"Hello, {tenants.GetRequiredTenantId()}!");
app.Run();
