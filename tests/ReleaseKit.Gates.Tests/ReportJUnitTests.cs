using System.Globalization;
using System.Xml.Linq;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class ReportJUnitTests
{
    private static XDocument Parse(GateReport report)
    {
        using var temp = new TempDirectory();
        var path = temp.File("junit.xml");
        using (var stream = File.Create(path))
        {
            GateReportWriter.Write(report, GateReportFormat.JUnit, stream);
        }

        // Load from the file as a CI system would: the declared encoding must match the bytes.
        return XDocument.Load(path);
    }

    private static int Int(XElement element, string attribute) => int.Parse(element.Attribute(attribute)!.Value, CultureInfo.InvariantCulture);

    private static double Seconds(XElement element) => double.Parse(element.Attribute("time")!.Value, CultureInfo.InvariantCulture);

    [Fact]
    public void There_is_one_testsuites_with_one_testsuite_per_stage()
    {
        var xml = Parse(ReportSamples.Mixed());
        var root = xml.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        Assert.Equal(["releasekit.promotion", "releasekit.postdeploy"], root.Elements("testsuite").Select(s => s.Attribute("name")!.Value));
    }

    [Fact]
    public void Each_gate_is_a_testcase_with_classname_name_and_time()
    {
        var report = ReportSamples.Mixed();
        var xml = Parse(report);
        var cases = xml.Descendants("testcase").ToList();
        Assert.Equal(report.Entries.Count, cases.Count);
        foreach (var entry in report.Entries)
        {
            var testcase = Assert.Single(cases, c => c.Attribute("name")!.Value == entry.Name);
            var stage = entry.Stage == GateStage.PostDeploy ? "postdeploy" : "promotion";
            Assert.Equal("releasekit." + stage, testcase.Attribute("classname")!.Value);
            Assert.Equal("releasekit." + stage, testcase.Parent!.Attribute("name")!.Value);
            Assert.Equal(Math.Round(entry.Result.Duration.TotalSeconds, 3), Seconds(testcase));
        }
    }

    [Fact]
    public void Failures_and_skips_equal_the_reports_blocking_and_dry_run_gates()
    {
        var report = ReportSamples.Mixed();
        var xml = Parse(report);
        var root = xml.Root!;
        Assert.Equal(report.Entries.Count(e => e.IsBlocking), root.Descendants("failure").Count());
        Assert.Equal(report.Entries.Count(e => e.DryRun), root.Descendants("skipped").Count());
        Assert.Empty(root.Descendants("error"));

        Assert.Equal(6, Int(root, "tests"));
        Assert.Equal(2, Int(root, "failures"));
        Assert.Equal(0, Int(root, "errors"));
        Assert.Equal(1, Int(root, "skipped"));
    }

    [Fact]
    public void Every_count_attribute_matches_the_elements_below_it()
    {
        foreach (var report in new[] { ReportSamples.Mixed(), ReportSamples.Sampled() })
        {
            var root = Parse(report).Root!;
            foreach (var element in root.Elements("testsuite").Prepend(root))
            {
                var cases = element.Descendants("testcase").ToList();
                Assert.Equal(cases.Count, Int(element, "tests"));
                Assert.Equal(cases.Count(c => c.Element("failure") is not null), Int(element, "failures"));
                Assert.Equal(cases.Count(c => c.Element("error") is not null), Int(element, "errors"));
                Assert.Equal(cases.Count(c => c.Element("skipped") is not null), Int(element, "skipped"));
                Assert.Equal(Math.Round(cases.Sum(Seconds), 3), Seconds(element), 3);
            }
        }
    }

    [Fact]
    public void Fail_and_inconclusive_are_failures_with_the_reason_as_message_and_the_verdict_as_type()
    {
        var xml = Parse(ReportSamples.Mixed());
        var approvals = xml.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "approvals").Element("failure")!;
        Assert.Equal("fail", approvals.Attribute("type")!.Value);
        Assert.Equal("Needs 2 approvers who are not the author; has 1.", approvals.Attribute("message")!.Value);
        Assert.Contains("approvers = 1 (threshold 2)", approvals.Value, StringComparison.Ordinal);

        var outcomes = xml.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "test-outcomes").Element("failure")!;
        Assert.Equal("inconclusive", outcomes.Attribute("type")!.Value);
        Assert.Contains("error: System.IO.IOException: The results folder is gone.", outcomes.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void A_warning_passes_with_the_caveat_in_system_out()
    {
        var xml = Parse(ReportSamples.Mixed());
        var window = xml.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "release-window");
        Assert.Null(window.Element("failure"));
        Assert.Null(window.Element("skipped"));
        var output = window.Element("system-out")!.Value;
        Assert.StartsWith("WARN: Inside the month-end close freeze.", output, StringComparison.Ordinal);
        Assert.Contains("advisory gate: fail reported as warn", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dry_run_gate_is_skipped_whatever_its_verdict()
    {
        var xml = Parse(ReportSamples.Mixed());
        var smoke = xml.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "smoke-tests");
        Assert.Null(smoke.Element("failure"));
        Assert.Equal("Dry run (fail): 3 smoke tests failed.", smoke.Element("skipped")!.Attribute("message")!.Value);
    }

    [Fact]
    public void Evidence_is_written_as_properties()
    {
        var xml = Parse(ReportSamples.Mixed());
        var budget = xml.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "error-budget");
        var properties = budget.Element("properties")!.Elements("property").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);
        Assert.Equal("0.4x (threshold 1x)", properties["evidence.burn_rate"]);
        Assert.Equal("pass", properties["verdict"]);
        Assert.Equal("blocking", properties["severity"]);
    }

    [Fact]
    public void Suites_carry_the_release_as_properties_and_a_utc_timestamp()
    {
        var suite = Parse(ReportSamples.Mixed()).Root!.Element("testsuite")!;
        Assert.Equal("2026-11-03T09:15:00", suite.Attribute("timestamp")!.Value);
        var properties = suite.Element("properties")!.Elements("property").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);
        Assert.Equal(ReportSamples.ReleaseId, properties["release.id"]);
        Assert.Equal(ReportSamples.Version, properties["release.version"]);
        Assert.Equal(ReportSamples.Commit, properties["release.commit"]);
        Assert.Equal(ReportSamples.Digest, properties["release.artifactDigest"]);
        Assert.Equal("fail", properties["releasekit.verdict"]);
    }

    [Fact]
    public void A_blocked_run_without_a_failing_gate_still_fails_in_ci()
    {
        // Sampling ran out of time while the gates were passing but not yet for long enough.
        var report = ReportSamples.Report([ReportSamples.Entry("latency", GateResult.Pass())], Verdict.Inconclusive, "Sampling timed out after 4 rounds: all blocking gates had been passing for 00:02:00, short of the required 00:05:00.");
        var root = Parse(report).Root!;
        Assert.Equal(1, Int(root, "failures"));
        var verdictCase = Assert.Single(root.Descendants("testcase"), c => c.Element("failure") is not null);
        Assert.Equal("releasekit.run", verdictCase.Attribute("classname")!.Value);
        Assert.Equal("release-verdict", verdictCase.Attribute("name")!.Value);
        Assert.Equal("inconclusive", verdictCase.Element("failure")!.Attribute("type")!.Value);
        Assert.StartsWith("Sampling timed out", verdictCase.Element("failure")!.Attribute("message")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_where_no_gate_ran_fails_in_ci()
    {
        var report = ReportSamples.Report([], Verdict.Inconclusive, "No gate was run for the selected stages and tags, so nothing was checked.", stages: [GateStage.Startup]);
        var root = Parse(report).Root!;
        Assert.Equal(1, Int(root, "tests"));
        Assert.Equal(1, Int(root, "failures"));
        Assert.Equal(["releasekit.startup", "releasekit.run"], root.Elements("testsuite").Select(s => s.Attribute("name")!.Value));
    }

    [Fact]
    public void A_passing_run_has_no_verdict_case()
    {
        var root = Parse(ReportSamples.Sampled()).Root!;
        Assert.DoesNotContain(root.Descendants("testcase"), c => c.Attribute("name")!.Value == "release-verdict");
        Assert.Equal(0, Int(root, "failures"));
    }

    [Fact]
    public void A_sampled_report_lists_its_rounds_in_the_suite_output()
    {
        var suite = Parse(ReportSamples.Sampled()).Root!.Element("testsuite")!;
        var output = suite.Element("system-out")!.Value;
        Assert.Contains("Sampled: 3 rounds; the last decides.", output, StringComparison.Ordinal);
        Assert.Contains("round 1: fail at 2026-11-03T09:15:00Z (2.000s); blocking: error-rate", output, StringComparison.Ordinal);
        Assert.Contains("round 3: pass at 2026-11-03T09:25:00Z (2.000s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Markup_and_control_characters_in_values_keep_the_xml_readable()
    {
        const string reason = "Expected <ok/> & \"done\" but got \u0001\u0007 from 'api'";
        var report = ReportSamples.Report([ReportSamples.Entry("odd", GateResult.Fail(reason, Evidence.Of("raw", "a\u0000b")))]);
        var xml = Parse(report);
        var failure = xml.Descendants("failure").Single();
        Assert.Equal("Expected <ok/> & \"done\" but got \uFFFD\uFFFD from 'api'", failure.Attribute("message")!.Value);
    }

    [Fact]
    public void A_text_writer_gets_xml_that_parses_too()
    {
        using var writer = new StringWriter();
        GateReportWriter.Write(ReportSamples.Mixed(), GateReportFormat.JUnit, writer);
        var xml = XDocument.Parse(writer.ToString());
        Assert.Equal(6, xml.Descendants("testcase").Count());
    }
}
