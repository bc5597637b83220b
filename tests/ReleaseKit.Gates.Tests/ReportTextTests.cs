using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class ReportTextTests
{
    private static string[] Lines(GateReport report)
    {
        using var temp = new TempDirectory();
        return ReportSamples.WriteFile(temp, report, GateReportFormat.Text).Split('\n');
    }

    [Fact]
    public void The_header_names_release_version_environment_and_verdict()
    {
        var header = Lines(ReportSamples.Mixed())[0];
        Assert.Equal($"Release gates FAIL: release {ReportSamples.ReleaseId}, version {ReportSamples.Version}, environment production", header);
    }

    [Fact]
    public void The_second_line_shows_commit_digest_and_stages()
    {
        var details = Lines(ReportSamples.Mixed())[1];
        Assert.Contains("commit " + ReportSamples.Commit, details, StringComparison.Ordinal);
        Assert.Contains("artifact " + ReportSamples.Digest, details, StringComparison.Ordinal);
        Assert.Contains("stages promotion postdeploy", details, StringComparison.Ordinal);
        Assert.Contains("started 2026-11-03T09:15:00Z", details, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_gate_has_one_line_with_verdict_name_stage_duration_and_reason_and_its_evidence_indented_below()
    {
        var lines = Lines(ReportSamples.Mixed());
        var approvals = Array.FindIndex(lines, l => l.Contains(" approvals ", StringComparison.Ordinal));
        Assert.True(approvals > 0);
        var line = lines[approvals];
        Assert.StartsWith("  FAIL ", line, StringComparison.Ordinal);
        Assert.Matches(@"^  FAIL\s+approvals\s+promotion\s+0\.120s\s+Needs 2 approvers who are not the author; has 1\.$", line);
        Assert.Equal("      approvers = 1 (threshold 2) [source: artifacts/release.json]", lines[approvals + 1]);

        Assert.Single(lines, l => l.Contains("error-budget", StringComparison.Ordinal) && l.Contains("postdeploy", StringComparison.Ordinal));
        Assert.Contains("      burn_rate = 0.4x (threshold 1x) [source: prometheus]", lines);
    }

    [Fact]
    public void Gate_lines_are_aligned_in_columns()
    {
        var lines = Lines(ReportSamples.Mixed());
        var names = ReportSamples.MixedEntries().Select(e => e.Name).ToList();
        var gateLines = names.Select(name => Assert.Single(lines, l => l.Length > 16 && l[16..].StartsWith(name + " ", StringComparison.Ordinal))).ToList();
        var stageColumns = gateLines.Select(l => l.IndexOf(l.Contains("postdeploy", StringComparison.Ordinal) ? "postdeploy" : "promotion", StringComparison.Ordinal)).Distinct();
        Assert.Single(stageColumns);
    }

    [Fact]
    public void Mapped_verdicts_dry_runs_retries_and_errors_are_explained()
    {
        var lines = Lines(ReportSamples.Mixed());
        var window = Assert.Single(lines, l => l.Contains("release-window", StringComparison.Ordinal));
        Assert.StartsWith("  WARN ", window, StringComparison.Ordinal);
        Assert.EndsWith("[advisory: fail reported as warn]", window, StringComparison.Ordinal);

        var smoke = Assert.Single(lines, l => l.Contains("smoke-tests", StringComparison.Ordinal));
        Assert.StartsWith("  FAIL ", smoke, StringComparison.Ordinal);
        Assert.EndsWith("[dry run, not counted]", smoke, StringComparison.Ordinal);

        var outcomes = Array.FindIndex(lines, l => l.Contains("test-outcomes", StringComparison.Ordinal));
        Assert.StartsWith("  INCONCLUSIVE ", lines[outcomes], StringComparison.Ordinal);
        Assert.Contains(" 1m 01.5s ", lines[outcomes], StringComparison.Ordinal);
        Assert.EndsWith("[3 attempts]", lines[outcomes], StringComparison.Ordinal);
        Assert.Equal("      error: System.IO.IOException: The results folder is gone.", lines[outcomes + 1]);
    }

    [Fact]
    public void The_summary_line_counts_the_gates_and_gives_the_exit_code()
    {
        var summary = Assert.Single(Lines(ReportSamples.Mixed()), l => l.StartsWith("Summary:", StringComparison.Ordinal));
        Assert.Equal("Summary: FAIL (5 gates: 2 pass, 1 warn, 1 inconclusive, 1 fail; 1 dry-run) in 1m 02.5s, exit code 1. 2 of 5 gates blocked the release: approvals, test-outcomes.", summary);
    }

    [Fact]
    public void A_sampled_report_lists_every_round_with_its_verdict()
    {
        var lines = Lines(ReportSamples.Sampled());
        Assert.Contains("Rounds (3, sampled; the last decides):", lines);
        Assert.Contains(lines, l => l.StartsWith("  round   1  2026-11-03T09:15:00Z  FAIL ", StringComparison.Ordinal) && l.EndsWith("blocking: error-rate", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  round   2  2026-11-03T09:20:00Z  WARN ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  round   3  2026-11-03T09:25:00Z  PASS ", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unsampled_report_has_no_rounds_section()
    {
        Assert.DoesNotContain(Lines(ReportSamples.Mixed()), l => l.StartsWith("Rounds", StringComparison.Ordinal));
    }

    [Fact]
    public void A_report_without_gates_says_so()
    {
        var report = ReportSamples.Report([], Verdict.Inconclusive, "No gate was run for the selected stages and tags, so nothing was checked.");
        var lines = Lines(report);
        Assert.Contains("  No gate ran.", lines);
        Assert.StartsWith("Release gates INCONCLUSIVE:", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Multi_line_reasons_stay_on_the_gate_line()
    {
        var report = ReportSamples.Report([ReportSamples.Entry("multi", GateResult.Fail("first line\nsecond line"))]);
        var line = Assert.Single(Lines(report), l => l.Contains("multi", StringComparison.Ordinal));
        Assert.EndsWith("first line second line", line, StringComparison.Ordinal);
    }
}
