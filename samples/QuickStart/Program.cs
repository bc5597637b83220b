// ReleaseKit quick start: registers release gates, records the artifact that passed staging in a SQLite
// file, then checks the promotion of the same release to production and prints the report.
//
//   dotnet run --project samples/QuickStart                                   # passes: exit code 0
//   dotnet run --project samples/QuickStart -- --manifest samples/QuickStart/release.failing.json   # exit 1
//   options: --manifest <path>  --format text|json|junit|markdown  --out <dir>  --db <sqlite file>
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates;

var manifestPath = Path.Combine(AppContext.BaseDirectory, "release.json");
var format = GateReportFormat.Text;
string? outDir = null;
var dbPath = Path.Combine(AppContext.BaseDirectory, "releasekit-sample.db");
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    try
    {
        switch (args[i])
        {
            case "--manifest": manifestPath = Value(); break;
            case "--format": format = GateReportWriter.ParseFormat(Value()); break;
            case "--out": outDir = Value(); break;
            case "--db": dbPath = Value(); break;
            default: throw new ArgumentException($"Unknown option '{args[i]}'. Options: --manifest <path>, --format {string.Join('|', GateReportWriter.FormatNames)}, --out <dir>, --db <file>.");
        }
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message);
        return 2;
    }
}

ReleaseManifest manifest;
try
{
    manifest = await ReleaseManifestReader.ReadFileAsync(manifestPath);
}
catch (ReleaseManifestException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

// The embedded default store: a SQLite file created on first run.
var dataSource = SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = dbPath }.ConnectionString);

var services = new ServiceCollection();
services.AddReleaseKit().AddGates()
    .AddManifestCompletenessGate()
    .AddApprovalsGate(policy => policy
        .Require(ChangeClasses.BillingLogic, 2)
        .Require(ChangeClasses.SchemaMigration, 2)
        .Group("release-managers", "bob", "carol", "dmitri"))
    // Month-end close: no billing release in the last 3 business days of the month. Advisory here so the
    // sample runs on any day (a Fail becomes a Warn); a real service makes it Blocking (the default).
    .AddReleaseWindowGate(
        window => window
            .Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3))
            .Deny("payroll day", WindowRule.NthWeekdayOfMonth(2, DayOfWeek.Thursday))
            .TimeZoneId = "Europe/Berlin",
        registration: r => r.Severity = GateSeverity.Advisory)
    .AddTestOutcomesGate(tests =>
    {
        tests.BaseDirectory = AppContext.BaseDirectory;
        tests.Patterns.Add("test-results/**/*.xml");
        tests.MinimumTests = 1;
    })
    .AddArtifactIdentityGate(o => o.SourceEnvironment = "staging", registration: r => r.WithTags("promotion-only"))
    .UseDbArtifactStore(dataSource, SqlDialect.Sqlite)
    .AddGate("erp-reachable", (context, ct) => ValueTask.FromResult(GateResult.Pass("The fake ERP answered.", Evidence.Of("erp_latency", 12.0, 500.0, "ms"))));

await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
var runner = provider.GetRequiredService<IReleaseGateRunner>();

// 1. Staging: the release passes its gates there, and the artifact that passed is recorded.
var staging = await runner.RunAsync(new GateRunRequest
{
    Manifest = manifest,
    EnvironmentName = "staging",
    GateNames = ["manifest-completeness", "test-outcomes", "erp-reachable"],
});
Console.WriteLine($"staging: {staging.Verdict.ToWireName()} — {staging.Summary}");
if (staging.Verdict.IsPassing() && manifest.ArtifactDigest is { } digest)
{
    var store = provider.GetRequiredService<IArtifactRecordStore>();
    await store.RecordAsync(new ArtifactRecord(manifest.ReleaseId, manifest.Version, "staging", digest, TimeProvider.System.GetUtcNow(), "quickstart"));
    Console.WriteLine($"staging: recorded {digest} for {manifest.ReleaseId} in {dbPath}");
}

Console.WriteLine();

// 2. Production: every promotion gate, including "is this the artifact that passed staging?".
var report = await runner.RunAsync(new GateRunRequest { Manifest = manifest, EnvironmentName = "production" });
GateReportWriter.Write(report, format, Console.Out);

if (outDir is not null)
{
    Directory.CreateDirectory(outDir);
    foreach (var name in GateReportWriter.FormatNames)
    {
        var f = GateReportWriter.ParseFormat(name);
        var extension = f switch { GateReportFormat.Json => "json", GateReportFormat.JUnit => "junit.xml", GateReportFormat.Markdown => "md", _ => "txt" };
        await using var file = File.Create(Path.Combine(outDir, $"gates.{extension}"));
        GateReportWriter.Write(report, f, file);
    }

    Console.WriteLine($"reports written to {Path.GetFullPath(outDir)}");
}

return report.ExitCode;
