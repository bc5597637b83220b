using System.Diagnostics;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Xunit;

using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

public sealed partial class HtmlReportTests
{
    private const string Chromium = "/usr/bin/chromium";

    private static readonly DateTimeOffset Start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    private static readonly ReleaseManifest Manifest = new()
    {
        ReleaseId = "2026.11.27-1",
        Version = "4.2.0",
        Commit = "9f1c2e7d4b5a69788c0d1e2f3a4b5c6d7e8f9012",
        ArtifactDigest = "sha256:5d41402abc4b2a76b9719d911017c592ae1f6b1d3e8ab3bb6c5b1f0d4cb2a0c1",
        Author = "ana",
        Approvers = ["ben"],
        RollbackInstructions = "Redeploy 4.1.3 with the rollback job.",
    };

    /// <summary>A sampled run: the ERP backlog gate fails twice, then passes; the schema gate passes; an advisory gate warns with a secret in its evidence.</summary>
    internal static GateReport SampledReport(string secret = "tok_9a8b7c6d5e4f", Verdict last = Verdict.Fail)
    {
        GateEntry[] Round(int n, Verdict erp) =>
        [
            new("erp-backlog", GateStage.Promotion, GateResult.Create(erp, erp == Verdict.Pass ? "ERP backlog 0" : $"ERP sync backlog is {400 - (n * 10)} postings", Evidence.Of("backlog", erp == Verdict.Pass ? 0L : 400L - (n * 10), 0L, "postings", "erp-gateway"))),
            new("schema-compatibility", GateStage.Promotion, GateResult.Pass("Build 4.2.0 knows every applied migration (latest 202611270900).", Evidence.Of("migration", "202611270900"))),
            new("erp-credentials", GateStage.Promotion, GateResult.Warn($"The ERP token expires in 6 days; connecting with Password={secret};", Evidence.Secret("erp-token", secret), Evidence.Of("expires-in", 6L, 14L, "days")), GateSeverity.Advisory),
        ];

        GateRound[] rounds =
        [
            new(1, Start, TimeSpan.FromSeconds(1.2), Round(1, Verdict.Fail)),
            new(2, Start.AddMinutes(5), TimeSpan.FromSeconds(0.9), Round(2, Verdict.Fail)),
            new(3, Start.AddMinutes(10), TimeSpan.FromSeconds(1.1), Round(3, last)),
        ];
        return new GateReport(Manifest, "production", [GateStage.Promotion], rounds, Start, Start.AddMinutes(10).AddSeconds(1.1), last == Verdict.Pass ? Verdict.Warn : Verdict.Fail,
            last == Verdict.Pass ? "All blocking gates passed; 1 advisory gate warned." : "1 of 3 gates blocked the release: erp-backlog.", sampled: true);
    }

    private static string Html(GateReport report)
    {
        var writer = new StringWriter();
        HtmlGateReportWriter.Write(report, writer);
        return writer.ToString();
    }

    [Fact]
    public void The_page_is_self_contained_with_the_verdict_first_and_every_gate_and_round()
    {
        var html = Html(SampledReport());

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("Content-Security-Policy", html);
        Assert.DoesNotMatch(ExternalReference(), html);
        var verdict = html.IndexOf("id=\"verdict\"", StringComparison.Ordinal);
        Assert.True(verdict > 0 && verdict < html.IndexOf("data-gate=", StringComparison.Ordinal), "the verdict comes before the gates");
        Assert.Contains(">FAIL</div>", html);
        foreach (var gate in new[] { "erp-backlog", "schema-compatibility", "erp-credentials" })
        {
            Assert.Contains($"data-gate=\"{gate}\"", html);
        }

        Assert.Contains("<svg class=\"rounds\"", html);
        Assert.Contains("ERP sync backlog is 390 postings", html); // round 1
        Assert.Contains("ERP sync backlog is 380 postings", html); // round 2
        Assert.Contains("ERP sync backlog is 370 postings", html); // round 3, the deciding one
        Assert.Contains("sha256:5d41402abc4b2a76b9719d911017c592ae1f6b1d3e8ab3bb6c5b1f0d4cb2a0c1", html);
    }

    [Fact]
    public void Text_from_gates_is_html_encoded()
    {
        var report = new GateReport(Manifest, "prod<script>", [GateStage.Promotion],
            [new GateRound(1, Start, TimeSpan.Zero, [new GateEntry("x", GateStage.Promotion, GateResult.Fail("<img src=x onerror=alert(1)>"))])],
            Start, Start, Verdict.Fail, "fail", sampled: false);

        var html = Html(report);

        Assert.DoesNotContain("<img src=x", html);
        Assert.DoesNotContain("prod<script>", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html);
    }

    [Property(MaxTest = 100)]
    public bool Secrets_are_redacted_in_html_exactly_as_in_the_other_formats(NonEmptyString seed)
    {
        // A secret that cannot occur in the page by chance: a fixed prefix and the seed's letters and digits.
        var secret = "zqx" + new string([.. seed.Get.Where(char.IsAsciiLetterOrDigit)]) + "7k";
        var report = SampledReport(secret);
        var html = Html(report);
        var markdown = new StringWriter();
        GateReportWriter.Write(report, GateReportFormat.Markdown, markdown);
        return !html.Contains(secret, StringComparison.Ordinal)
            && !markdown.ToString().Contains(secret, StringComparison.Ordinal)
            && html.Contains("***", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chromium_renders_the_full_report_without_script_errors_and_shows_the_verdict_and_every_section()
    {
        if (!File.Exists(Chromium))
        {
            Assert.Skip($"Chromium is not installed at {Chromium}: install the Debian package 'chromium' (eng/test.sh does so when run as root).");
        }

        using var directory = new TempDirectory();
        var page = directory.File("report.html");
        var report = await ReleaseReportSamples.FullAsync(directory);
        await File.WriteAllTextAsync(page, HtmlReleaseReportTests.Html(report), TestContext.Current.CancellationToken);
        var screenshot = directory.File("report.png");

        var dom = await RunChromiumAsync(directory, $"--dump-dom file://{page}");
        await RunChromiumAsync(directory, $"--screenshot={screenshot} --window-size=1100,3000 --hide-scrollbars file://{page}");

        Assert.Contains("data-report-ready=\"1\"", dom);
        Assert.Contains("data-verdict=\"fail\"", dom);
        Assert.Contains(">FAIL</div>", dom);
        Assert.Contains("erp-backlog", dom);
        Assert.Contains("<section id=\"migrations\">", dom);
        Assert.Contains("<section id=\"health\">", dom);
        Assert.Contains("<section id=\"reconciliation\">", dom);
        Assert.Contains("<svg class=\"chart\"", dom);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot has content");
        if (Environment.GetEnvironmentVariable("RELEASEKIT_REPORT_SCREENSHOT") is { Length: > 0 } keep)
        {
            File.Copy(screenshot, keep, overwrite: true);
        }
    }

    private static async Task<string> RunChromiumAsync(TempDirectory directory, string arguments)
    {
        var start = new ProcessStartInfo(Chromium,
            $"--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage --user-data-dir={directory.File("profile")} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    [GeneratedRegex(@"(src|href)\s*=|<link|url\(|@import", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}
