using System.Globalization;
using System.Text.Json;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class ReportJsonTests
{
    private static JsonDocument Parse(GateReport report)
    {
        using var temp = new TempDirectory();
        return JsonDocument.Parse(ReportSamples.WriteFile(temp, report, GateReportFormat.Json));
    }

    private static string[] PropertyNames(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    [Fact]
    public void The_report_has_schema_version_1_and_the_run_verdict()
    {
        using var json = Parse(ReportSamples.Mixed());
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(GateReportWriter.JsonSchemaVersion, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("fail", root.GetProperty("verdict").GetString());
        Assert.Equal(1, root.GetProperty("exitCode").GetInt32());
        Assert.Equal("production", root.GetProperty("environment").GetString());
        Assert.Equal(["promotion", "postdeploy"], root.GetProperty("stages").EnumerateArray().Select(s => s.GetString()));
        Assert.False(root.GetProperty("sampled").GetBoolean());
        Assert.Equal(62.5, root.GetProperty("durationSeconds").GetDouble());
    }

    [Fact]
    public void The_top_level_shape_is_the_documented_one()
    {
        // Changing this list is a schema change: bump schemaVersion when removing or renaming, and document it in docs/reports.md.
        using var json = Parse(ReportSamples.Mixed());
        var root = json.RootElement;
        Assert.Equal(
            ["schemaVersion", "verdict", "exitCode", "summary", "environment", "stages", "sampled", "startedAt", "completedAt", "durationSeconds", "release", "counts", "rounds"],
            PropertyNames(root));
        Assert.Equal(
            ["id", "version", "commit", "artifactDigest", "buildTime", "author", "approvers", "changeClasses", "migrations", "featureFlags", "rollbackInstructions", "source"],
            PropertyNames(root.GetProperty("release")));
        Assert.Equal(["total", "counted", "pass", "warn", "inconclusive", "fail", "dryRun", "blocking"], PropertyNames(root.GetProperty("counts")));
        var round = root.GetProperty("rounds")[0];
        Assert.Equal(["number", "startedAt", "durationSeconds", "verdict", "entries"], PropertyNames(round));
        Assert.Equal(
            ["name", "stage", "severity", "dryRun", "tags", "verdict", "rawVerdict", "blocking", "reason", "attempts", "durationSeconds", "error", "evidence"],
            PropertyNames(round.GetProperty("entries")[0]));
        Assert.Equal(["name", "observed", "threshold", "unit", "source", "sensitive"], PropertyNames(round.GetProperty("entries")[0].GetProperty("evidence")[0]));
    }

    [Fact]
    public void Entries_match_the_report()
    {
        var report = ReportSamples.Mixed();
        using var json = Parse(report);
        var entries = json.RootElement.GetProperty("rounds")[0].GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(report.Entries.Count, entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var expected = report.Entries[i];
            var actual = entries[i];
            Assert.Equal(expected.Name, actual.GetProperty("name").GetString());
            Assert.Equal(expected.Verdict.ToWireName(), actual.GetProperty("verdict").GetString());
            Assert.Equal(expected.Result.Verdict.ToWireName(), actual.GetProperty("rawVerdict").GetString());
            Assert.Equal(expected.DryRun, actual.GetProperty("dryRun").GetBoolean());
            Assert.Equal(expected.IsBlocking, actual.GetProperty("blocking").GetBoolean());
            Assert.Equal(expected.Attempts, actual.GetProperty("attempts").GetInt32());
            Assert.Equal(expected.Result.Duration.TotalSeconds, actual.GetProperty("durationSeconds").GetDouble());
            Assert.Equal(expected.Result.Reason, actual.GetProperty("reason").GetString());
            Assert.Equal(expected.Result.Evidence.Count, actual.GetProperty("evidence").GetArrayLength());
        }
    }

    [Fact]
    public void Severity_stage_tags_error_and_evidence_are_written_with_wire_names()
    {
        using var json = Parse(ReportSamples.Mixed());
        var entries = json.RootElement.GetProperty("rounds")[0].GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);

        var window = entries["release-window"];
        Assert.Equal("advisory", window.GetProperty("severity").GetString());
        Assert.Equal("warn", window.GetProperty("verdict").GetString());
        Assert.Equal("fail", window.GetProperty("rawVerdict").GetString());

        Assert.Equal("postdeploy", entries["error-budget"].GetProperty("stage").GetString());
        Assert.Equal(["billing", "sod"], entries["approvals"].GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        var outcomes = entries["test-outcomes"];
        Assert.Equal("inconclusive", outcomes.GetProperty("verdict").GetString());
        Assert.Equal("System.IO.IOException", outcomes.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("The results folder is gone.", outcomes.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, entries["approvals"].GetProperty("error").ValueKind);

        var evidence = entries["approvals"].GetProperty("evidence")[0];
        Assert.Equal("approvers", evidence.GetProperty("name").GetString());
        Assert.Equal("1", evidence.GetProperty("observed").GetString());
        Assert.Equal("2", evidence.GetProperty("threshold").GetString());
        Assert.Equal(JsonValueKind.Null, evidence.GetProperty("unit").ValueKind);
        Assert.Equal("artifacts/release.json", evidence.GetProperty("source").GetString());
        Assert.False(evidence.GetProperty("sensitive").GetBoolean());
    }

    [Fact]
    public void Counts_are_those_of_the_deciding_round()
    {
        using var json = Parse(ReportSamples.Mixed());
        var counts = json.RootElement.GetProperty("counts");
        Assert.Equal(6, counts.GetProperty("total").GetInt32());
        Assert.Equal(5, counts.GetProperty("counted").GetInt32());
        Assert.Equal(2, counts.GetProperty("pass").GetInt32());
        Assert.Equal(1, counts.GetProperty("warn").GetInt32());
        Assert.Equal(1, counts.GetProperty("inconclusive").GetInt32());
        Assert.Equal(1, counts.GetProperty("fail").GetInt32());
        Assert.Equal(1, counts.GetProperty("dryRun").GetInt32());
        Assert.Equal(2, counts.GetProperty("blocking").GetInt32());
    }

    [Fact]
    public void Timestamps_are_iso_8601_utc()
    {
        var start = new DateTimeOffset(2026, 11, 3, 10, 15, 0, 250, TimeSpan.FromHours(1));
        var round = new GateRound(1, start, TimeSpan.FromSeconds(1), [ReportSamples.Entry("a", GateResult.Pass())]);
        var report = new GateReport(ReportSamples.Manifest(), "staging", [GateStage.Promotion], [round], start, start.AddSeconds(1), Verdict.Pass, "1 gate passed.", sampled: false);
        using var json = Parse(report);
        var root = json.RootElement;
        Assert.Equal("2026-11-03T09:15:00.25Z", root.GetProperty("startedAt").GetString());
        Assert.Equal("2026-11-03T09:15:01.25Z", root.GetProperty("completedAt").GetString());
        Assert.Equal("2026-11-03T08:15:00Z", root.GetProperty("release").GetProperty("buildTime").GetString());
        var parsed = DateTimeOffset.Parse(root.GetProperty("rounds")[0].GetProperty("startedAt").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(start, parsed);
    }

    [Fact]
    public void Release_fields_are_written_and_absent_ones_are_null()
    {
        using (var json = Parse(ReportSamples.Mixed()))
        {
            var release = json.RootElement.GetProperty("release");
            Assert.Equal(ReportSamples.ReleaseId, release.GetProperty("id").GetString());
            Assert.Equal(ReportSamples.Version, release.GetProperty("version").GetString());
            Assert.Equal(ReportSamples.Commit, release.GetProperty("commit").GetString());
            Assert.Equal(ReportSamples.Digest, release.GetProperty("artifactDigest").GetString());
            Assert.Equal(["bob", "carol"], release.GetProperty("approvers").EnumerateArray().Select(a => a.GetString()));
            Assert.Equal(["SchemaMigration", "BillingLogic"], release.GetProperty("changeClasses").EnumerateArray().Select(a => a.GetString()));
        }

        var bare = ReportSamples.Report([ReportSamples.Entry("a", GateResult.Pass())], manifest: new ReleaseManifest { ReleaseId = "r1", Version = "1.0.0" });
        using (var json = Parse(bare))
        {
            var release = json.RootElement.GetProperty("release");
            foreach (var name in new[] { "commit", "artifactDigest", "buildTime", "author", "rollbackInstructions", "source" })
            {
                Assert.Equal(JsonValueKind.Null, release.GetProperty(name).ValueKind);
            }

            Assert.Equal(0, release.GetProperty("approvers").GetArrayLength());
        }
    }

    [Fact]
    public void A_sampled_report_has_every_round_with_its_entries()
    {
        var report = ReportSamples.Sampled();
        using var json = Parse(report);
        var root = json.RootElement;
        Assert.True(root.GetProperty("sampled").GetBoolean());
        var rounds = root.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(report.Rounds.Count, rounds.Count);
        for (var i = 0; i < rounds.Count; i++)
        {
            Assert.Equal(report.Rounds[i].Number, rounds[i].GetProperty("number").GetInt32());
            Assert.Equal(report.Rounds[i].Verdict.ToWireName(), rounds[i].GetProperty("verdict").GetString());
            Assert.Equal(report.Rounds[i].Entries.Count, rounds[i].GetProperty("entries").GetArrayLength());
            Assert.Equal(2.0, rounds[i].GetProperty("durationSeconds").GetDouble());
        }

        Assert.Equal(["fail", "warn", "pass"], rounds.Select(r => r.GetProperty("verdict").GetString()));
        Assert.Equal("pass", root.GetProperty("verdict").GetString());
    }

    [Fact]
    public void Quotes_newlines_and_unicode_in_values_round_trip()
    {
        const string reason = "He said \"no\"\nthen left: <b>Zoë</b> & co \\ done";
        var report = ReportSamples.Report([ReportSamples.Entry("quoted", GateResult.Fail(reason))]);
        using var json = Parse(report);
        Assert.Equal(reason, json.RootElement.GetProperty("rounds")[0].GetProperty("entries")[0].GetProperty("reason").GetString());
    }
}
