using System.Text.RegularExpressions;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed partial class ReportMarkdownTests
{
    private static string Markdown(GateReport report)
    {
        using var temp = new TempDirectory();
        return ReportSamples.WriteFile(temp, report, GateReportFormat.Markdown);
    }

    /// <summary>The cells of a table row, split on the pipes GitHub treats as separators (not those escaped with a backslash).</summary>
    private static string[] Cells(string row) => [.. CellSeparator().Split(row.Trim()[1..^1]).Select(c => c.Trim())];

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellSeparator();

    [Fact]
    public void The_heading_shows_the_verdict()
    {
        Assert.StartsWith("## ❌ Release gates: FAIL\n", Markdown(ReportSamples.Mixed()), StringComparison.Ordinal);
        Assert.StartsWith("## ✅ Release gates: PASS\n", Markdown(ReportSamples.Sampled()), StringComparison.Ordinal);
    }

    [Fact]
    public void The_release_line_names_release_version_environment_commit_and_digest()
    {
        var markdown = Markdown(ReportSamples.Mixed());
        Assert.Contains($"**Release** {ReportSamples.ReleaseId} · **Version** {ReportSamples.Version} · **Environment** production", markdown, StringComparison.Ordinal);
        Assert.Contains("**Commit** " + ReportSamples.Commit, markdown, StringComparison.Ordinal);
        Assert.Contains("**Artifact** " + ReportSamples.Digest, markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_gate_table_has_a_row_per_gate_with_verdict_gate_stage_duration_and_reason()
    {
        var report = ReportSamples.Mixed();
        var lines = Markdown(report).Split('\n');
        var header = Array.IndexOf(lines, "| Verdict | Gate | Stage | Duration | Reason |");
        Assert.True(header >= 0);
        Assert.Equal("| --- | --- | --- | ---: | --- |", lines[header + 1]);
        var rows = lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Select(Cells).ToList();
        Assert.Equal(report.Entries.Count, rows.Count);
        Assert.All(rows, r => Assert.Equal(5, r.Length));

        var approvals = Assert.Single(rows, r => r[1] == "approvals");
        Assert.Equal(["❌ fail", "approvals", "promotion", "0.120s", "Needs 2 approvers who are not the author; has 1."], approvals);
        var window = Assert.Single(rows, r => r[1] == "release-window");
        Assert.Equal("⚠️ warn", window[0]);
        Assert.EndsWith("_(advisory: fail reported as warn)_", window[4], StringComparison.Ordinal);
        Assert.Equal("❔ inconclusive", Assert.Single(rows, r => r[1] == "test-outcomes")[0]);
        var smoke = Assert.Single(rows, r => r[1] == "smoke-tests");
        Assert.Equal("🧪 fail", smoke[0]);
        Assert.Contains("dry run, not counted", smoke[4], StringComparison.Ordinal);
    }

    [Fact]
    public void Pipes_in_values_are_escaped_so_the_table_keeps_its_columns()
    {
        var report = ReportSamples.Report([ReportSamples.Entry("pipes", GateResult.Fail("expected a|b but got c || d", Evidence.Of("cmd", "grep x | wc -l", source: "a|b")))]);
        var markdown = Markdown(report);
        Assert.Contains(@"expected a\|b but got c \|\| d", markdown, StringComparison.Ordinal);
        var row = Assert.Single(markdown.Split('\n'), l => l.StartsWith("| ❌ fail | pipes", StringComparison.Ordinal));
        Assert.Equal(5, Cells(row).Length);
        var evidenceRow = Assert.Single(markdown.Split('\n'), l => l.StartsWith("| pipes | cmd", StringComparison.Ordinal));
        Assert.Equal(["pipes", "cmd", @"grep x \| wc -l", string.Empty, @"a\|b"], Cells(evidenceRow));
    }

    [Fact]
    public void Mentions_in_values_do_not_notify_anyone()
    {
        var report = ReportSamples.Report([ReportSamples.Entry("mention", GateResult.Fail("ask @billing-oncall or @org/release-team", Evidence.Of("owner", "@alice")))]);
        var markdown = Markdown(report);
        Assert.DoesNotMatch(@"@[A-Za-z]", markdown);
        Assert.Contains("ask @\u200Bbilling-oncall or @\u200Borg/release-team", markdown, StringComparison.Ordinal);
        Assert.Contains("@\u200Balice", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_and_html_in_values_are_escaped()
    {
        var report = ReportSamples.Report([ReportSamples.Entry("markup", GateResult.Fail("*bold* _it_ `code` [link](x) <script>alert(1)</script> & #1 ~~gone~~\nnext line"))]);
        var row = Assert.Single(Markdown(report).Split('\n'), l => l.StartsWith("| ❌ fail | markup", StringComparison.Ordinal));
        Assert.Contains(@"\*bold\* \_it\_ \`code\` \[link\](x) &lt;script&gt;alert(1)&lt;/script&gt; &amp; \#1 \~\~gone\~\~<br>next line", row, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", row, StringComparison.Ordinal);
    }

    [Fact]
    public void Evidence_is_folded_in_a_details_block()
    {
        var markdown = Markdown(ReportSamples.Mixed());
        var details = markdown.IndexOf("<details>\n<summary>Evidence (6)</summary>\n\n", StringComparison.Ordinal);
        Assert.True(details > 0, markdown);
        var end = markdown.IndexOf("</details>", details, StringComparison.Ordinal);
        var block = markdown[details..end];
        Assert.Contains("| Gate | Evidence | Observed | Threshold | Source |", block, StringComparison.Ordinal);
        Assert.Contains("| approvals | approvers | 1 | 2 | artifacts/release.json |", block, StringComparison.Ordinal);
        Assert.Contains(@"| error-budget | burn\_rate | 0.4x | 1x | prometheus |", block, StringComparison.Ordinal);
        Assert.Contains("| test-outcomes | error | System.IO.IOException: The results folder is gone. |  |  |", block, StringComparison.Ordinal);
    }

    [Fact]
    public void The_summary_counts_the_gates()
    {
        Assert.Contains("**5 gates: 2 pass, 1 warn, 1 inconclusive, 1 fail; 1 dry-run** · took 1m 02.5s · exit code 1", Markdown(ReportSamples.Mixed()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sampled_report_lists_every_round_in_a_details_block()
    {
        var markdown = Markdown(ReportSamples.Sampled());
        Assert.Contains("<summary>Sampling: 3 rounds (the last decides)</summary>", markdown, StringComparison.Ordinal);
        Assert.Contains("| 1 | 2026-11-03T09:15:00Z | ❌ fail | 2.000s | error-rate |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 2 | 2026-11-03T09:20:00Z | ⚠️ warn | 2.000s |  |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 3 | 2026-11-03T09:25:00Z | ✅ pass | 2.000s |  |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Sampling:", Markdown(ReportSamples.Mixed()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_report_without_gates_says_so()
    {
        var markdown = Markdown(ReportSamples.Report([], Verdict.Inconclusive, "No gate was run."));
        Assert.StartsWith("## ❔ Release gates: INCONCLUSIVE", markdown, StringComparison.Ordinal);
        Assert.Contains("_No gate ran._", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("<details>", markdown, StringComparison.Ordinal);
    }
}
