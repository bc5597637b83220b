using System.Data.Common;
using FluentMigrator.Runner;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using Npgsql;
using ProServ.Billing.Migrations;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Migrations;
using ReleaseKit.Reconciliation;
using ReleaseKit.TenantContext;

namespace ProServ.Billing;

/// <summary>Builds the ProServ billing app: its services, ReleaseKit registrations and endpoints.</summary>
public static class BillingApp
{
    /// <summary>The tenants, one per tier: the canary first, the strategic one last.</summary>
    public static readonly IReadOnlyList<string> TenantIds = ["northwind-labs", "contoso-consulting", "tailspin-eu", "fabrikam-advisory"];

    /// <summary>The request header that names the tenant.</summary>
    public const string TenantHeader = "X-Tenant-Id";

    /// <summary>
    /// Creates the app. <paramref name="contentRoot"/> holds appsettings.json, release.json and the SQLite file (default:
    /// the app's folder). <paramref name="configure"/> runs after the app's registrations (tests replace the clock or the ERP).
    /// </summary>
    public static WebApplication Create(string[] args, string? contentRoot = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = contentRoot ?? AppContext.BaseDirectory });
        ConfigureServices(builder);
        configure?.Invoke(builder);
        var app = builder.Build();
        MapEndpoints(app);
        return app;
    }

    /// <summary>Creates the tables this release needs (Expand and Backfill only), the posting journal and the demo projects.</summary>
    public static async Task PrepareDatabaseAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.Services;
        if (services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStartup)
        {
            var result = await services.GetRequiredService<FleetMigrator>().ApplyAsync(Phase.Backfill, cancellationToken);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"Migrations at start failed: {result.Reason}");
            }
        }

        await services.GetRequiredService<PostingJournal>().EnsureCreatedAsync(cancellationToken);
        await services.GetRequiredService<BillingStore>().SeedAsync(TenantIds, cancellationToken);
    }

    private static void ConfigureServices(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        var contentRoot = builder.Environment.ContentRootPath;

        services.AddOptions<ReleaseOptions>().Bind(configuration.GetSection("Release")).ValidateOnStart();
        services.AddOptions<DatabaseOptions>().Bind(configuration.GetSection("Database")).ValidateOnStart();
        services.AddOptions<ErpFaultOptions>().Bind(configuration.GetSection("Erp")).ValidateOnStart();
        services.AddOptions<GateSettings>().Bind(configuration.GetSection("ReleaseKit")).ValidateOnStart();
        services.AddSingleton<BillingOptionsValidator>();
        services.AddSingleton<IValidateOptions<ReleaseOptions>>(sp => sp.GetRequiredService<BillingOptionsValidator>());
        services.AddSingleton<IValidateOptions<DatabaseOptions>>(sp => sp.GetRequiredService<BillingOptionsValidator>());
        services.AddSingleton<IValidateOptions<ErpFaultOptions>>(sp => sp.GetRequiredService<BillingOptionsValidator>());
        services.AddSingleton<IValidateOptions<GateSettings>>(sp => sp.GetRequiredService<BillingOptionsValidator>());

        // Read once here for the registrations that need values while the container is built; validated again at start.
        var release = configuration.GetSection("Release").Get<ReleaseOptions>() ?? new ReleaseOptions();
        var profile = ReleaseProfile.Find(release.Version) ?? ReleaseProfile.Default;
        var gates = configuration.GetSection("ReleaseKit").Get<GateSettings>() ?? new GateSettings();
        var provider = configuration["Database:Provider"] ?? "sqlite";
        var postgres = string.Equals(provider, "postgres", StringComparison.OrdinalIgnoreCase);
        var connectionString = ConnectionString(configuration.GetConnectionString("Billing"), postgres, contentRoot);

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<DbDataSource>(_ => postgres
            ? NpgsqlDataSource.Create(connectionString)
            : SqliteFactory.Instance.CreateDataSource(connectionString));

        // This build's migrations, cut at the highest version the configured release knows.
        var maxMigration = release.MaxMigrationVersion ?? profile.MaxMigrationVersion;
        var catalog = MigrationCatalog.FromTypes(MigrationCatalog.FromAssembly(typeof(BaseTables).Assembly).Migrations.Where(m => m.Version <= maxMigration).Select(m => m.Type));
        services.AddSingleton(catalog);
        services.AddFluentMigratorCore().ConfigureRunner(rb =>
        {
            if (postgres)
            {
                rb.AddPostgres();
            }
            else
            {
                rb.AddSQLite();
            }

            rb.WithGlobalConnectionString(connectionString).ScanIn(typeof(BaseTables).Assembly).For.Migrations();
        });

        services.AddSingleton<InMemoryErp>();
        services.AddSingleton<IErpGateway>(sp => sp.GetRequiredService<InMemoryErp>());
        services.AddSingleton<BillingMetrics>();
        services.AddSingleton<BillingStore>();
        services.AddSingleton<ErpFaultPlan>();
        services.AddSingleton<InvoiceExporter>();
        services.AddHostedService<FleetHeartbeatService>();
        services.AddFeatureManagement().WithTenantTargeting();
        services.AddHealthChecks().AddReleaseKitReadiness(); // /ready runs the startup gates (schema compatibility)

        var releaseKit = services.AddReleaseKit();
        releaseKit
            .AddHosting(o => o.ManifestPath = "release.json")
            .AddDeploymentMarker()
            .AddSyntheticCheck(InvoiceColumnsCheck.Name, (context, ct) => InvoiceColumnsCheck.RunAsync(context, profile, ct))
            .AddMigrations(o =>
            {
                o.MigrationsAssembly = typeof(BaseTables).Assembly;
                o.BuildVersion = profile.Version;
                if (release.InstanceId is { } id)
                {
                    o.InstanceId = id;
                }
            })
            .AddReconciliation(sp => sp.GetRequiredService<DbDataSource>(), o => configuration.GetSection("Reconciliation").Bind(o))
            .AddHealthCriteria(o => BillingMetrics.Configure(o, profile.Version, gates.HealthMinimumSampleSize))
            .AddTenantContext(ConfigureTenants)
            .AddGates(g => g
                .AddManifestCompletenessGate()
                .AddApprovalsGate(p => p
                    .Require(ChangeClasses.BillingLogic, 2)
                    .Require(ChangeClasses.SchemaMigration, 2)
                    .Group("release-managers", "bob", "carol", "dmitri"))
                .AddReleaseWindowGate(
                    w => w.Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3)).TimeZoneId = "Europe/Berlin",
                    registration: r => r.Severity = Enum.Parse<GateSeverity>(gates.ReleaseWindowSeverity, ignoreCase: true))
                .AddGate("build-matches-manifest", (context, _) => ValueTask.FromResult(BuildMatchesManifest(context, profile)))
                .AddMigrationGates()
                .AddTenantChangeWindowGate(ring: gates.PromoteRing)
                .AddFeatureExposureGate(reachedRing: gates.PromoteRing)
                .AddReconciliationBacklogGate()
                .AddReleaseHealthGate(ReleaseWindow.FirstHourName));
    }

    private static void ConfigureTenants(TenantContextOptions o)
    {
        o.ResolveFrom(TenantSourceKind.Header, TenantHeader);
        o.AddTenant("northwind-labs", t => { t.DisplayName = "Northwind Labs (internal canary)"; t.Ring = 0; t.Tier = "Shared"; });
        o.AddTenant("contoso-consulting", t =>
        {
            t.DisplayName = "Contoso Consulting";
            t.Ring = 1;
            t.Tier = "Pooled";
            t.Freeze("month-end close", WindowRule.LastBusinessDaysOfMonth(3), "Europe/Berlin");
        });
        o.AddTenant("tailspin-eu", t =>
        {
            t.DisplayName = "Tailspin EU";
            t.Ring = 1;
            t.Tier = "Regional";
            t.Region = "eu-west";
            t.Freeze("month-end close", WindowRule.LastBusinessDaysOfMonth(3), "Europe/Dublin");
        });
        o.AddTenant("fabrikam-advisory", t =>
        {
            t.DisplayName = "Fabrikam Advisory (strategic)";
            t.Ring = 2;
            t.Tier = "DedicatedDatabase";
            t.IsStrategic = true;
            t.RequiredPreviousRingHealthyFor = TimeSpan.FromHours(24);
            t.Freeze("month-end close", WindowRule.LastBusinessDaysOfMonth(5), "America/New_York");
        });
    }

    private static GateResult BuildMatchesManifest(GateContext context, ReleaseProfile profile) =>
        string.Equals(context.Manifest.Version, profile.Version, StringComparison.Ordinal)
            ? GateResult.Pass($"This build runs release {profile.Version}, the version the manifest promotes.", Evidence.Of("build", profile.Version))
            : GateResult.Fail(
                $"The manifest promotes {context.Manifest.Version} but this build runs {profile.Version} (Release:Version): check the build that is deployed, or the manifest.",
                Evidence.Of("build", profile.Version),
                Evidence.Of("manifest", context.Manifest.Version));

    private static string ConnectionString(string? configured, bool postgres, string contentRoot)
    {
        if (postgres)
        {
            return string.IsNullOrWhiteSpace(configured)
                ? throw new OptionsValidationException("ConnectionStrings:Billing", typeof(DatabaseOptions), ["Database:Provider is postgres but ConnectionStrings:Billing is empty: set it to a PostgreSQL connection string (Host=...;Database=...;Username=...)."])
                : configured;
        }

        var sqlite = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? "Data Source=proserv-billing.db" : configured);
        if (!Path.IsPathRooted(sqlite.DataSource) && sqlite.DataSource != ":memory:")
        {
            sqlite.DataSource = Path.Combine(contentRoot, sqlite.DataSource);
        }

        return sqlite.ConnectionString;
    }

    private static void MapEndpoints(WebApplication app)
    {
        // Every request runs for the tenant its X-Tenant-Id header names; an unknown or missing tenant gets problem
        // details and never reaches an endpoint. /health and /ready need no tenant.
        app.UseReleaseKitTenants();
        app.MapReleaseKitReadiness("/ready");

        var api = app.MapGroup(string.Empty)
            .AddEndpointFilter<TenantProfileFilter>()
            .AddEndpointFilter(async (context, next) =>
            {
                var metrics = context.HttpContext.RequestServices.GetRequiredService<BillingMetrics>();
                var time = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
                var started = time.GetTimestamp();
                try
                {
                    return await next(context);
                }
                finally
                {
                    var tenant = context.HttpContext.Items[typeof(TenantProfile)] as TenantProfile;
                    metrics.RequestDuration.Record(
                        time.GetElapsedTime(started).TotalSeconds,
                        new KeyValuePair<string, object?>("http.route", (context.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText),
                        new KeyValuePair<string, object?>("tenant.tier", tenant?.Tier.ToString()));
                }
            });

        api.MapGet("/projects", async (HttpContext http, BillingStore store, CancellationToken ct) =>
            Results.Ok(await store.ListProjectsAsync(http.Tenant().Id, ct)));

        api.MapPost("/time-entries", async (TimeEntryRequest request, HttpContext http, BillingStore store, CancellationToken ct) =>
        {
            if (request.Minutes is <= 0 or > 24 * 60 || string.IsNullOrWhiteSpace(request.Consultant))
            {
                return Results.Problem("minutes must be 1 to 1440 and consultant must be set.", statusCode: StatusCodes.Status400BadRequest);
            }

            var invoice = await store.AddTimeEntryAsync(http.Tenant().Id, request.ProjectId, request.Consultant, request.Minutes, request.WorkDate, ct);
            return invoice is null
                ? Results.Problem($"Project {request.ProjectId} does not exist for this tenant.", statusCode: StatusCodes.Status404NotFound)
                : Results.Created($"/invoices/{invoice.Id}", invoice);
        });

        api.MapPost("/invoices/{id:long}/approve", async (long id, ApprovalRequest request, HttpContext http, BillingStore store, CancellationToken ct) =>
            await store.SetStatusAsync(http.Tenant().Id, id, "approved", ["draft"], request.Approver, ct)
                ? Results.Ok(await store.FindInvoiceAsync(http.Tenant().Id, id, ct))
                : Results.Problem($"Invoice {id} is not a draft of this tenant.", statusCode: StatusCodes.Status409Conflict));

        api.MapPost("/invoices/{id:long}/export", async (long id, HttpContext http, InvoiceExporter exporter, CancellationToken ct) =>
        {
            var result = await exporter.ExportAsync(http.Tenant(), id, ct);
            return result.Status switch
            {
                ExportStatus.Exported => Results.Ok(result),
                ExportStatus.NotFound => Results.Problem(result.Message, statusCode: StatusCodes.Status404NotFound),
                ExportStatus.Conflict => Results.Problem(result.Message, statusCode: StatusCodes.Status409Conflict),
                _ => Results.Problem(result.Message, statusCode: StatusCodes.Status502BadGateway),
            };
        });
    }
}

/// <summary>POST /time-entries body.</summary>
public sealed record TimeEntryRequest(long ProjectId, string Consultant, int Minutes, DateOnly WorkDate);

/// <summary>POST /invoices/{id}/approve body.</summary>
public sealed record ApprovalRequest(string Approver);

/// <summary>Heartbeats this instance (release version and known migrations) into the fleet registry while the app serves.</summary>
internal sealed class FleetHeartbeatService(FleetRegistry registry, MigrationCatalog catalog, IOptions<ReleaseOptions> release, IOptions<ReleaseKitMigrationsOptions> migrations) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = release.Value;
        return registry.RunHeartbeatAsync(migrations.Value.InstanceId, catalog.ToBuild(o.Version), migrations.Value.Host, o.HeartbeatInterval, o.RemoveOnStop, stoppingToken);
    }
}
