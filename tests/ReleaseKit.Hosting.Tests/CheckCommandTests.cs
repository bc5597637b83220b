using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.Hosting;

namespace ReleaseKit.Hosting.Tests;

public sealed class CheckCommandTests
{
    private static void PassingGates(IReleaseGatesBuilder g) => g
        .AddManifestCompletenessGate()
        .AddGate("erp-reachable", _ => GateResult.Pass("ERP answered in 40 ms", Evidence.Of("latency", 40L, 500L, "ms")));

    [Fact]
    public async Task Arguments_that_do_not_start_with_releasekit_leave_the_app_alone()
    {
        using var app = TestApp.WithGates(PassingGates);
        var before = Environment.ExitCode;

        Assert.False(await app.Host.RunReleaseKitCommandAsync([], TestContext.Current.CancellationToken));
        Assert.False(await app.Host.RunReleaseKitCommandAsync(["--urls", "http://+:80"], TestContext.Current.CancellationToken));
        Assert.False(await app.Host.RunReleaseKitCommandAsync(["check", "releasekit"], TestContext.Current.CancellationToken));
        Assert.Equal(before, Environment.ExitCode);
    }

    [Fact]
    public async Task The_host_entry_point_runs_the_command_and_sets_the_process_exit_code()
    {
        using var app = TestApp.WithGates(g => g.AddGate("always-fails", _ => GateResult.Fail("nope")));
        var before = Environment.ExitCode;
        try
        {
            Assert.True(await app.Host.RunReleaseKitCommandAsync(["releasekit", "check", "--manifest", app.ManifestPath, "--format", "markdown"], TestContext.Current.CancellationToken));
            Assert.Equal(ReleaseKitExitCodes.Fail, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = before;
        }
    }

    [Fact]
    public async Task Check_passes_with_exit_code_0_and_prints_the_text_report()
    {
        using var app = TestApp.WithGates(PassingGates);

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("PASS", run.Output);
        Assert.Contains("erp-reachable", run.Output);
        Assert.Contains("manifest-completeness", run.Output);
        Assert.Equal(string.Empty, run.Error);
    }

    [Fact]
    public async Task The_manifest_and_environment_default_to_the_content_root_and_the_host_environment()
    {
        string? seenEnvironment = null;
        using var app = TestApp.WithGates(g => g.AddGate("env", c => { seenEnvironment = c.EnvironmentName; return GateResult.Pass(); }));

        var run = await app.RunAsync("check");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("staging", seenEnvironment);
    }

    [Fact]
    public async Task Check_fails_with_exit_code_1_when_a_blocking_gate_fails()
    {
        using var app = TestApp.WithGates(g => g
            .AddManifestCompletenessGate()
            .AddGate("erp-backlog", _ => GateResult.Fail("ERP sync backlog is 412 postings", Evidence.Of("backlog", 412L, 0L, "postings"))));

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--environment", "production");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("FAIL", run.Output);
        Assert.Contains("ERP sync backlog is 412 postings", run.Output);
    }

    [Fact]
    public async Task Stage_tag_and_gate_filters_choose_which_gates_run()
    {
        using var app = TestApp.WithGates(g => g
            .AddGate("startup-only", _ => GateResult.Pass("s"), r => r.InStages(GateStage.Startup))
            .AddGate("tagged-db", _ => GateResult.Pass("db"), r => r.WithTags("db"))
            .AddGate("failing-other", _ => GateResult.Fail("other")));

        var startup = await app.RunAsync("check", "--stage", "startup");
        var tagged = await app.RunAsync("check", "--tag", "db");
        var named = await app.RunAsync("check", "--gate", "tagged-db,startup-only", "--stage", "startup,promotion");

        Assert.True(startup.ExitCode == 0, startup.ToString());
        Assert.Contains("startup-only", startup.Output);
        Assert.DoesNotContain("failing-other", startup.Output);
        Assert.True(tagged.ExitCode == 0, tagged.ToString());
        Assert.DoesNotContain("failing-other", tagged.Output);
        Assert.True(named.ExitCode == 0, named.ToString());
        Assert.Contains("startup-only", named.Output);
        Assert.Contains("tagged-db", named.Output);
    }

    [Fact]
    public async Task Every_format_is_written_to_the_out_folder_and_the_text_report_to_the_console()
    {
        using var app = TestApp.WithGates(PassingGates);
        var outDir = app.Directory.File("reports/nested");

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--format", "json,junit", "--format", "markdown", "--format", "html", "--out", outDir);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "releasekit-check.json")));
        Assert.Equal("pass", json.RootElement.GetProperty("verdict").GetString());
        var junit = XDocument.Load(Path.Combine(outDir, "releasekit-check.junit.xml"));
        Assert.Contains(junit.Descendants("testcase"), t => (string?)t.Attribute("name") == "erp-reachable");
        Assert.Contains("erp-reachable", File.ReadAllText(Path.Combine(outDir, "releasekit-check.md")));
        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(Path.Combine(outDir, "releasekit-check.html")));
        Assert.False(File.Exists(Path.Combine(outDir, "releasekit-check.txt")));
        Assert.Contains("PASS", run.Output);
        Assert.Contains("releasekit-check.html", run.Output);
    }

    [Fact]
    public async Task Without_out_a_single_json_format_is_pure_json_on_standard_output()
    {
        using var app = TestApp.WithGates(PassingGates);

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal("2026.11.27-1", json.RootElement.GetProperty("release").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Record_stores_the_passing_artifact_digest_in_the_registered_store()
    {
        using var app = TestApp.WithGates(g => { PassingGates(g); g.UseFileArtifactStore(Path.Combine(Path.GetTempPath(), "releasekit-tests", Guid.NewGuid().ToString("N"), "artifacts.json")); });
        var store = app.Services.GetRequiredService<IArtifactRecordStore>();

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--environment", "staging", "--record");

        Assert.True(run.ExitCode == 0, run.ToString());
        var record = await store.FindAsync("2026.11.27-1", "4.2.0", "staging", TestContext.Current.CancellationToken);
        Assert.NotNull(record);
        Assert.Equal("sha256:5d41402abc4b2a76b9719d911017c592ae1f6b1d3e8ab3bb6c5b1f0d4cb2a0c1", record.ArtifactDigest);
        Assert.Contains("Recorded sha256:5d41", run.Output);
    }

    [Fact]
    public async Task Record_does_not_store_anything_when_the_release_fails()
    {
        using var app = TestApp.WithGates(g => g.AddGate("blocker", _ => GateResult.Fail("blocked")).UseFileArtifactStore(Path.Combine(Path.GetTempPath(), "releasekit-tests", Guid.NewGuid().ToString("N"), "artifacts.json")));
        var store = app.Services.GetRequiredService<IArtifactRecordStore>();

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath, "--record");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Null(await store.FindAsync("2026.11.27-1", "4.2.0", "staging", TestContext.Current.CancellationToken));
        Assert.Contains("Not recorded", run.Error);
    }

    [Fact]
    public async Task Sampling_mode_keeps_evaluating_until_the_gates_pass_and_reports_every_round()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 14, 0, 0, TimeSpan.Zero));
        var rounds = 0;
        using var app = TestApp.WithGates(
            g => g.AddGate("erp-backlog", _ => ++rounds < 3 ? GateResult.Fail($"backlog {100 - rounds}") : GateResult.Pass("backlog 0"), r => r.Timeout = TimeSpan.FromHours(1)),
            more: s => s.AddSingleton<TimeProvider>(time));

        var running = app.RunAsync("check", "--manifest", app.ManifestPath, "--format", "json", "--sample-interval", "5m", "--timeout", "1h");
        var guard = 0;
        while (!running.IsCompleted)
        {
            await Task.Delay(2, TestContext.Current.CancellationToken);
            time.Advance(TimeSpan.FromMinutes(1));
            Assert.True(++guard < 100_000, "the sampled run never finished");
        }

        var run = await running;
        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Output);
        Assert.True(json.RootElement.GetProperty("sampled").GetBoolean());
        Assert.Equal(3, json.RootElement.GetProperty("rounds").GetArrayLength());
    }

    [Fact]
    public async Task Help_for_every_verb_exits_0_and_lists_its_options()
    {
        using var app = TestApp.WithGates(PassingGates);

        var root = await app.RunAsync("--help");
        var check = await app.RunAsync("check", "--help");
        var migrations = await app.RunAsync("migrations", "--help");
        var apply = await app.RunAsync("migrations", "apply", "--help");
        var health = await app.RunAsync("health", "--help");

        Assert.True(root.ExitCode == 0, root.ToString());
        Assert.Contains("check", root.Output);
        Assert.Contains("migrations", root.Output);
        Assert.Contains("health", root.Output);
        Assert.True(check.ExitCode == 0, check.ToString());
        foreach (var option in new[] { "--manifest", "--environment", "--stage", "--format", "--out", "--record", "--sample-interval", "--timeout", "--tag", "--gate" })
        {
            Assert.Contains(option, check.Output);
        }

        Assert.Contains("plan", migrations.Output);
        Assert.Contains("lint", migrations.Output);
        Assert.Contains("status", migrations.Output);
        Assert.Contains("--phase", apply.Output);
        Assert.Contains("--window", health.Output);
        Assert.Contains("first-hour", health.Output);
    }

    public static TheoryData<string[], string> BadCommandLines => new()
    {
        { [], "Required command" },
        { ["deploy"], "deploy" },
        { ["check", "--verbose"], "--verbose" },
        { ["check", "--stage", "production"], "--stage 'production' is not allowed. Allowed values: startup, promotion, postdeploy" },
        { ["check", "--format", "json,pdf"], "--format 'pdf' is not allowed. Allowed values: text, json, junit, markdown, html" },
        { ["check", "--timeout", "10m"], "--timeout applies to sampling mode only" },
        { ["check", "--sample-interval", "soon"], "--sample-interval 'soon' is not a positive duration" },
        { ["check", "--sample-interval", "0s"], "is not a positive duration" },
        { ["migrations"], "Required command" },
        { ["migrations", "apply"], "--phase" },
        { ["migrations", "apply", "--phase", "shrink"], "shrink" },
        { ["health", "--window"], "--window" },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public async Task Bad_command_lines_exit_with_2_and_say_what_is_wrong(string[] args, string expected)
    {
        using var app = TestApp.WithGates(PassingGates);

        var run = await app.RunAsync(args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(expected, run.Error);
        Assert.Contains("--help", run.Error);
        Assert.Equal(string.Empty, run.Output);
    }

    [Fact]
    public async Task A_missing_manifest_exits_with_2_and_names_the_file()
    {
        using var app = TestApp.WithGates(PassingGates, manifest: null);

        var run = await app.RunAsync("check");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("release.json", run.Error);
        Assert.Contains("does not exist", run.Error);
        Assert.Contains("--manifest", run.Error);
    }

    [Fact]
    public async Task A_malformed_manifest_exits_with_2_and_lists_every_error_with_its_json_path()
    {
        using var app = TestApp.WithGates(PassingGates, manifest: """{ "schemaVersion": 1, "version": 42, "approvers": "ben", "colour": "blue" }""");

        var run = await app.RunAsync("check");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("$.releaseId", run.Error);
        Assert.Contains("$.version", run.Error);
        Assert.Contains("$.approvers", run.Error);
        Assert.Contains("$.colour", run.Error);
    }

    [Fact]
    public async Task Json_that_is_not_json_exits_with_2()
    {
        using var app = TestApp.WithGates(PassingGates, manifest: "{ not json");

        var run = await app.RunAsync("check");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("release.json", run.Error);
    }

    [Fact]
    public async Task No_gates_registered_exits_with_2_and_says_how_to_register_them()
    {
        using var app = new TestApp((_, _) => { });
        using var registeredRunnerNoGates = TestApp.WithGates(_ => { });

        var none = await app.RunAsync("check");
        var empty = await registeredRunnerNoGates.RunAsync("check");

        Assert.True(none.ExitCode == 2, none.ToString());
        Assert.Contains("No release gates are registered", none.Error);
        Assert.Contains("AddGates", none.Error);
        Assert.True(empty.ExitCode == 2, empty.ToString());
        Assert.Contains("No release gates are registered", empty.Error);
    }

    [Fact]
    public async Task An_unknown_gate_name_or_an_empty_selection_exits_with_2_and_lists_the_registered_gates()
    {
        using var app = TestApp.WithGates(PassingGates);

        var unknown = await app.RunAsync("check", "--gate", "erp-reachabel");
        var emptyStage = await app.RunAsync("check", "--stage", "postdeploy");
        var emptyTag = await app.RunAsync("check", "--tag", "nothing-has-this");

        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("--gate 'erp-reachabel'", unknown.Error);
        Assert.Contains("erp-reachable", unknown.Error);
        Assert.True(emptyStage.ExitCode == 2, emptyStage.ToString());
        Assert.Contains("No registered gate runs in stage postdeploy", emptyStage.Error);
        Assert.True(emptyTag.ExitCode == 2, emptyTag.ToString());
        Assert.Contains("nothing-has-this", emptyTag.Error);
    }

    [Fact]
    public async Task Options_validation_failures_exit_with_2_and_name_the_option()
    {
        using var app = new TestApp((_, releaseKit) => releaseKit.AddHosting(o => o.ManifestPath = " ").AddGates(PassingGates));
        using var badWindow = TestApp.WithGates(g => g.AddReleaseWindowGate(o => o.TimeZoneId = "Mars/Olympus_Mons"));

        var run = await app.RunAsync("check");
        var window = await badWindow.RunAsync("check");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("ReleaseKitHostingOptions.ManifestPath", run.Error);
        Assert.True(window.ExitCode == 2, window.ToString());
        Assert.Contains("Mars/Olympus_Mons", window.Error);
    }

    [Fact]
    public async Task Record_without_a_store_or_without_a_digest_exits_with_2()
    {
        using var noStore = TestApp.WithGates(PassingGates);
        using var noDigest = TestApp.WithGates(
            g => g.AddGate("ok", _ => GateResult.Pass()).UseFileArtifactStore(Path.Combine(Path.GetTempPath(), "releasekit-tests", Guid.NewGuid().ToString("N"), "a.json")),
            manifest: """{ "schemaVersion": 1, "releaseId": "r1", "version": "1.0.0" }""");

        var a = await noStore.RunAsync("check", "--record");
        var b = await noDigest.RunAsync("check", "--record");

        Assert.True(a.ExitCode == 2, a.ToString());
        Assert.Contains("UseFileArtifactStore", a.Error);
        Assert.True(b.ExitCode == 2, b.ToString());
        Assert.Contains("artifactDigest", b.Error);
    }

    [Fact]
    public async Task An_out_folder_that_cannot_be_created_exits_with_2()
    {
        using var app = TestApp.WithGates(PassingGates);
        var file = app.Directory.Write("not-a-folder", "x");

        var run = await app.RunAsync("check", "--out", Path.Combine(file, "reports"));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--out", run.Error);
    }

    [Fact]
    public async Task An_unreadable_application_database_exits_2_and_says_what_to_check()
    {
        using var missing = new ReleaseKit.Testing.TempDirectory();
        var path = missing.File("no-such-folder/billing.db");
        using var app = TestApp.WithGates(
            g => g.AddGate("ok", _ => GateResult.Pass()),
            more: services => services.AddSingleton<System.Data.Common.DbDataSource>(Microsoft.Data.Sqlite.SqliteFactory.Instance.CreateDataSource($"Data Source={path};Password=hunter2")));

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("Cannot open the application's database", run.Error);
        Assert.Contains("no-such-folder", run.Error);
        Assert.DoesNotContain("hunter2", run.Error);
        Assert.Empty(run.Output); // no gate ran, no report claims anything
    }

    [Fact]
    public async Task A_database_file_that_does_not_exist_yet_is_created_and_the_check_runs()
    {
        using var directory = new ReleaseKit.Testing.TempDirectory();
        using var app = TestApp.WithGates(
            g => g.AddGate("ok", _ => GateResult.Pass()),
            more: services => services.AddSingleton<System.Data.Common.DbDataSource>(ReleaseKit.Testing.Databases.Sqlite(directory, "fresh.db")));

        var run = await app.RunAsync("check", "--manifest", app.ManifestPath);

        Assert.True(run.ExitCode == 0, run.ToString());
    }
}
