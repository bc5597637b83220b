using System.Text;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class ReportWriterTests
{
    [Theory]
    [InlineData("text", GateReportFormat.Text)]
    [InlineData("json", GateReportFormat.Json)]
    [InlineData("junit", GateReportFormat.JUnit)]
    [InlineData("markdown", GateReportFormat.Markdown)]
    [InlineData("JUnit", GateReportFormat.JUnit)]
    [InlineData(" Markdown ", GateReportFormat.Markdown)]
    public void Format_names_parse_case_insensitively(string name, GateReportFormat expected)
    {
        Assert.Equal(expected, GateReportWriter.ParseFormat(name));
        Assert.True(GateReportWriter.TryParseFormat(name, out var parsed));
        Assert.Equal(expected, parsed);
    }

    [Theory]
    [InlineData("xml")]
    [InlineData("md")]
    [InlineData("")]
    public void An_unknown_format_name_is_rejected_with_the_allowed_names(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => GateReportWriter.ParseFormat(name));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("text, json, junit, markdown", error.Message, StringComparison.Ordinal);
        Assert.False(GateReportWriter.TryParseFormat(name, out _));
    }

    [Fact]
    public void Every_format_has_a_name_that_parses_back()
    {
        var formats = GateReportWriter.FormatNames.Select(GateReportWriter.ParseFormat).ToHashSet();
        Assert.Equal(Enum.GetValues<GateReportFormat>().ToHashSet(), formats);
    }

    [Fact]
    public void An_undefined_format_value_is_rejected()
    {
        using var writer = new StringWriter();
        Assert.Throws<ArgumentOutOfRangeException>(() => GateReportWriter.Write(ReportSamples.Mixed(), (GateReportFormat)42, writer));
    }

    [Theory]
    [InlineData(GateReportFormat.Text)]
    [InlineData(GateReportFormat.Json)]
    [InlineData(GateReportFormat.JUnit)]
    [InlineData(GateReportFormat.Markdown)]
    public void A_file_is_utf8_without_a_byte_order_mark_and_the_stream_stays_open(GateReportFormat format)
    {
        using var temp = new TempDirectory();
        var path = temp.File("report." + format.ToString().ToLowerInvariant());
        using (var stream = File.Create(path))
        {
            GateReportWriter.Write(ReportSamples.Mixed(), format, stream);
            Assert.True(stream.CanWrite);
        }

        var bytes = File.ReadAllBytes(path);
        Assert.NotEmpty(bytes);
        Assert.False(bytes is [0xEF, 0xBB, 0xBF, ..], "The file starts with a UTF-8 byte order mark.");
        Assert.Contains("approvals", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GateReportFormat.Text)]
    [InlineData(GateReportFormat.Json)]
    [InlineData(GateReportFormat.Markdown)]
    public void A_text_writer_gets_the_same_report_as_a_stream(GateReportFormat format)
    {
        var report = ReportSamples.Mixed();
        using var temp = new TempDirectory();
        var fromStream = ReportSamples.WriteFile(temp, report, format);
        using var writer = new StringWriter { NewLine = "\n" };
        GateReportWriter.Write(report, format, writer);
        Assert.Equal(fromStream, writer.ToString());
    }

    [Fact]
    public void Arguments_are_guarded()
    {
        using var writer = new StringWriter();
        Assert.Throws<ArgumentNullException>(() => GateReportWriter.Write(null!, GateReportFormat.Text, writer));
        Assert.Throws<ArgumentNullException>(() => GateReportWriter.Write(ReportSamples.Mixed(), GateReportFormat.Text, (TextWriter)null!));
        Assert.Throws<ArgumentNullException>(() => GateReportWriter.Write(ReportSamples.Mixed(), GateReportFormat.Text, (Stream)null!));
    }
}

/// <summary>Reports built the way the runner builds them, for the report tests.</summary>
internal static class ReportSamples
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    public const string Digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    public const string Version = "2026.11.3";
    public const string ReleaseId = "pipeline-4711";

    public static readonly DateTimeOffset Start = new(2026, 11, 3, 9, 15, 0, TimeSpan.Zero);

    public static IReadOnlyList<GateReportFormat> AllFormats { get; } = Enum.GetValues<GateReportFormat>();

    public static ReleaseManifest Manifest() => new()
    {
        ReleaseId = ReleaseId,
        Version = Version,
        Commit = Commit,
        ArtifactDigest = Digest,
        BuildTime = Start.AddHours(-1),
        Author = "alice",
        Approvers = ["bob", "carol"],
        ChangeClasses = [ChangeClasses.SchemaMigration, ChangeClasses.BillingLogic],
        Migrations = ["202611030915_add_invoice_index"],
        FeatureFlags = ["invoice-v2"],
        RollbackInstructions = "Redeploy 2026.11.2; the migration is additive.",
        Source = "artifacts/release.json",
    };

    public static GateEntry Entry(string name, GateResult result, GateStage stage = GateStage.Promotion, GateSeverity severity = GateSeverity.Blocking, bool dryRun = false, int milliseconds = 120, int attempts = 1, IReadOnlyList<string>? tags = null) =>
        new(name, stage, result.WithDuration(TimeSpan.FromMilliseconds(milliseconds)), severity, dryRun, tags, attempts);

    /// <summary>Every verdict, severity mapping and mode: pass, fail, advisory warn, dry run, inconclusive from an exception, another stage.</summary>
    public static IReadOnlyList<GateEntry> MixedEntries() =>
    [
        Entry("manifest-complete", GateResult.Pass("The manifest is complete.", Evidence.Of("approvers", 2L)), milliseconds: 12),
        Entry("approvals", GateResult.Fail("Needs 2 approvers who are not the author; has 1.", Evidence.Of("approvers", 1L, 2L, source: "artifacts/release.json")), tags: ["billing", "sod"]),
        Entry("release-window", GateResult.Fail("Inside the month-end close freeze.", Evidence.Of("window", "month-end-close")), severity: GateSeverity.Advisory, milliseconds: 3),
        Entry("smoke-tests", GateResult.Fail("3 smoke tests failed.", Evidence.Of("failed", 3L, 0L)), dryRun: true, milliseconds: 2500),
        Entry("test-outcomes", GateResult.FromException(new IOException("The results folder is gone."), Verdict.Inconclusive), attempts: 3, milliseconds: 61_500),
        Entry("error-budget", GateResult.Pass("Burn rate is within budget.", Evidence.Of("burn_rate", 0.4, 1.0, unit: "x", source: "prometheus")), stage: GateStage.PostDeploy, milliseconds: 40),
    ];

    public static GateReport Report(IReadOnlyList<GateEntry> entries, Verdict? verdict = null, string? summary = null, ReleaseManifest? manifest = null, IReadOnlyList<GateStage>? stages = null)
    {
        var round = new GateRound(1, Start, TimeSpan.FromSeconds(62), entries);
        return new GateReport(manifest ?? Manifest(), "production", stages ?? [GateStage.Promotion, GateStage.PostDeploy], [round], Start, Start.AddSeconds(62.5), verdict ?? round.Verdict, summary ?? "2 of 5 gates blocked the release: approvals, test-outcomes.", sampled: false);
    }

    public static GateReport Mixed() => Report(MixedEntries());

    /// <summary>A sampled run: round 1 fails, round 2 passes with a warning, round 3 passes; the last decides.</summary>
    public static GateReport Sampled()
    {
        GateRound Round(int number, params GateEntry[] entries) => new(number, Start.AddMinutes(5 * (number - 1)), TimeSpan.FromSeconds(2), entries);
        var rounds = new[]
        {
            Round(1, Entry("error-rate", GateResult.Fail("Error rate 2.1% is above 1%.", Evidence.Of("error_rate", 2.1, 1.0, unit: "%")), GateStage.PostDeploy), Entry("latency", GateResult.Pass("p99 is fine."), GateStage.PostDeploy)),
            Round(2, Entry("error-rate", GateResult.Warn("Error rate 0.9% is close to 1%."), GateStage.PostDeploy), Entry("latency", GateResult.Pass("p99 is fine."), GateStage.PostDeploy)),
            Round(3, Entry("error-rate", GateResult.Pass("Error rate 0.2% is below 1%."), GateStage.PostDeploy), Entry("latency", GateResult.Pass("p99 is fine."), GateStage.PostDeploy)),
        };
        return new GateReport(Manifest(), "production", [GateStage.PostDeploy], rounds, Start, Start.AddMinutes(10).AddSeconds(2), Verdict.Pass, "All blocking gates passed in round 2 and stayed passing for 00:05:00 (required 00:05:00).", sampled: true);
    }

    /// <summary>Writes the report to a real file through the stream overload and reads it back.</summary>
    public static string WriteFile(TempDirectory temp, GateReport report, GateReportFormat format)
    {
        var path = temp.File($"{Guid.NewGuid():N}.{format.ToString().ToLowerInvariant()}");
        using (var stream = File.Create(path))
        {
            GateReportWriter.Write(report, format, stream);
        }

        return File.ReadAllText(path, Encoding.UTF8);
    }
}
