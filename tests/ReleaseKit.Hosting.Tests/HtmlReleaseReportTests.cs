using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ReleaseKit.Gates;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Testing;

namespace ReleaseKit.Hosting.Tests;

public sealed partial class HtmlReleaseReportTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    internal static string Html(ReleaseReport report)
    {
        var writer = new StringWriter();
        HtmlReleaseReportWriter.Write(report, writer);
        return writer.ToString();
    }

    private static int IndexOf(string html, string value)
    {
        var index = html.IndexOf(value, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{value}' is in the page");
        return index;
    }

    [Fact]
    public async Task The_full_report_shows_the_verdict_first_then_gates_migrations_health_and_reconciliation_each_explained()
    {
        var html = Html(await ReleaseReportSamples.FullAsync(_directory));

        var verdict = IndexOf(html, "id=\"verdict\"");
        var gates = IndexOf(html, "<h2>Gates</h2>");
        var migrations = IndexOf(html, "<section id=\"migrations\">");
        var health = IndexOf(html, "<section id=\"health\">");
        var reconciliation = IndexOf(html, "<section id=\"reconciliation\">");
        Assert.True(verdict < gates && gates < migrations && migrations < health && health < reconciliation, "sections in order: verdict, gates, migrations, health, reconciliation");
        Assert.Contains(">FAIL</div>", html);
        Assert.Contains("Also in this report: migrations: 3 pending, 1 blocked · health first-hour: Roll back · health first-day: Roll back · reconciliation: 4 discrepancies, 1 held", html);
        foreach (var section in new[] { "migrations", "health", "reconciliation" })
        {
            var start = IndexOf(html, $"<section id=\"{section}\">");
            Assert.StartsWith("<p class=\"explain\">", html[html.IndexOf('\n', start)..].TrimStart('\n'));
        }

        Assert.Equal(1, Regex.Count(html, "<script"));
        Assert.DoesNotMatch(ExternalReference(), html);
    }

    [Fact]
    public void Without_migrations_health_or_reconciliation_their_sections_are_left_out_and_the_gates_only_writer_gives_the_same_page()
    {
        var gates = HtmlReportTests.SampledReport();

        var html = Html(new ReleaseReport(gates));
        var gatesOnly = new StringWriter();
        HtmlGateReportWriter.Write(gates, gatesOnly);

        Assert.DoesNotContain("id=\"migrations\"", html);
        Assert.DoesNotContain("id=\"health\"", html);
        Assert.DoesNotContain("id=\"reconciliation\"", html);
        Assert.DoesNotContain("Also in this report", html);
        Assert.Equal(html, gatesOnly.ToString());
    }

    [Fact]
    public async Task The_migration_plan_lists_each_pending_migration_with_phase_class_and_what_the_window_allows_now()
    {
        var html = Html(new ReleaseReport(HtmlReportTests.SampledReport()) { MigrationPlan = await ReleaseReportSamples.MigrationPlanAsync(_directory) });

        var section = html[IndexOf(html, "<section id=\"migrations\">")..];
        Assert.Matches("<tr class=\"v-pass\" data-migration=\"1\"><td>1</td><td>Expand</td><td>HostingSamples.Billing.CreateInvoice</td><td>[^<]*invoice[^<]*</td><td>may run now</td>", section);
        Assert.Matches("<tr class=\"v-pass\" data-migration=\"2\"><td>2</td><td>Expand</td><td>HostingSamples.Billing.AddAmountDue</td>", section);
        Assert.Matches("<tr class=\"v-warn\" data-migration=\"3\"><td>3</td><td>Contract</td><td>HostingSamples.Billing.DropTotal</td><td>[^<]*</td><td>waits</td><td>[^<]*<b>Blocking instances:</b> web-old/1</td>", section);
        Assert.Contains("3 pending · 2 may run now · 1 waiting", section);
    }

    [Fact]
    public void Health_shows_each_window_and_criterion_with_observed_threshold_and_baseline()
    {
        var html = Html(new ReleaseReport(HtmlReportTests.SampledReport()) { Health = ReleaseReportSamples.Health() });

        var section = html[IndexOf(html, "<section id=\"health\">")..];
        Assert.True(IndexOf(section, "data-window=\"first-hour\"") < IndexOf(section, "data-window=\"first-day\""), "windows sorted by start, then end");
        var hour = section[IndexOf(section, "data-window=\"first-hour\"")..];
        Assert.Contains("<span class=\"pill\">ROLL BACK</span> first-hour", hour);
        var p95 = hour[IndexOf(hour, "data-criterion=\"checkout-p95\"")..];
        Assert.Contains("<dt>Baseline</dt>", p95[..p95.IndexOf("</dl>", StringComparison.Ordinal)]);
        Assert.Contains("<line class=\"baseline\"", p95[..p95.IndexOf("</svg>", StringComparison.Ordinal)]);
        var failures = hour[IndexOf(hour, "data-criterion=\"invoice-export-failures\"")..];
        Assert.Contains("<dt>Threshold</dt><dd>0.05</dd>", failures);
        Assert.Contains("<span class=\"pill\">FAIL</span> invoice-export-failures", failures);
        Assert.Contains("· critical", failures);
    }

    [Fact]
    public void Each_chart_plots_exactly_the_criterion_series_against_its_threshold()
    {
        var health = ReleaseReportSamples.Health();
        var html = Html(new ReleaseReport(HtmlReportTests.SampledReport()) { Health = health });
        var criterion = health.Single(h => h.Window.Name == ReleaseWindow.FirstHourName)["invoice-export-failures"];
        Assert.True(criterion.Series.Count >= 20, $"one point per minute slice, got {criterion.Series.Count}");

        var hour = html[IndexOf(html, "data-window=\"first-hour\"")..];
        var block = hour[IndexOf(hour, "data-criterion=\"invoice-export-failures\"")..];
        var svg = block[IndexOf(block, "<svg class=\"chart\"")..(IndexOf(block, "</svg>") + 6)];
        var top = double.Parse(Regex.Match(svg, "data-y-max=\"([^\"]+)\"").Groups[1].Value, CultureInfo.InvariantCulture);
        var polyline = Regex.Match(svg, "<polyline class=\"series\" points=\"([^\"]+)\"").Groups[1].Value.Split(' ');
        Assert.Equal(criterion.Series.Count, polyline.Length);
        var previousX = double.NegativeInfinity;
        for (var i = 0; i < polyline.Length; i++)
        {
            var xy = polyline[i].Split(',');
            var x = double.Parse(xy[0], CultureInfo.InvariantCulture);
            Assert.True(x > previousX, "points in time order");
            previousX = x;
            Assert.Equal(HtmlChart.Y(criterion.Series[i].Value, top), double.Parse(xy[1], CultureInfo.InvariantCulture), 0.01);
        }

        var circles = Regex.Matches(svg, "<circle class=\"pt\"[^>]*><title>[^<]*: ([^ ]+) \\(n=(\\d+)\\)</title>");
        Assert.Equal(criterion.Series.Select(p => HtmlReleaseReportWriter.Number(p.Value)), circles.Select(m => m.Groups[1].Value));
        Assert.Equal(criterion.Series.Select(p => p.SampleSize.ToString(CultureInfo.InvariantCulture)), circles.Select(m => m.Groups[2].Value));
        var threshold = Regex.Match(svg, "<line class=\"threshold\" x1=\"\\d+\" y1=\"([^\"]+)\"[^>]*><title>threshold 0.05</title>");
        Assert.True(threshold.Success, "a dashed threshold line with its tooltip");
        Assert.Equal(HtmlChart.Y(0.05, top), double.Parse(threshold.Groups[1].Value, CultureInfo.InvariantCulture), 0.01);
        Assert.Contains("time slice (UTC)</text>", svg);
        Assert.Contains("rate per &#39;invoice.exports&#39;</text>", svg);
        var thresholdY = double.Parse(threshold.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Contains(polyline, p => double.Parse(p.Split(',')[1], CultureInfo.InvariantCulture) < thresholdY); // the failures rise above the limit
        Assert.Contains(polyline, p => double.Parse(p.Split(',')[1], CultureInfo.InvariantCulture) > thresholdY);
    }

    [Fact]
    public void A_criterion_with_fewer_than_two_slices_gets_a_table_instead_of_a_chart()
    {
        var html = Html(new ReleaseReport(HtmlReportTests.SampledReport()) { Health = ReleaseReportSamples.Health() });

        var hour = html[IndexOf(html, "data-window=\"first-hour\"")..];
        var backlog = hour[IndexOf(hour, "data-criterion=\"erp-backlog\"")..];
        backlog = backlog[..IndexOf(backlog, "</div>")];
        Assert.DoesNotContain("<svg", backlog);
        Assert.Contains("Too few time slices to chart (1 slice)", backlog);
        Assert.Contains("<td>2026-11-27T14:00:00Z</td><td class=\"num\">120</td><td class=\"num\">1</td>", backlog);
    }

    [Fact]
    public async Task Reconciliation_counts_discrepancies_by_class_and_action_with_amounts_and_held_items()
    {
        var html = Html(new ReleaseReport(HtmlReportTests.SampledReport()) { Reconciliation = await ReleaseReportSamples.ReconciliationAsync(_directory) });

        var section = html[IndexOf(html, "<section id=\"reconciliation\">")..];
        Assert.Contains("<tr data-class=\"MissingDownstream\"><td>MissingDownstream</td><td class=\"num\">3</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">3</td></tr>", section);
        Assert.Contains("<tr data-class=\"OrphanDownstream\"><td>OrphanDownstream</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">1</td></tr>", section);
        Assert.Contains("data-action=\"Replay\"><b>3</b>", section);
        Assert.Contains("data-action=\"Hold\"><b>1</b>", section);
        Assert.Contains("<tr><td>EUR</td><td class=\"num\">170.24</td></tr>", section);
        Assert.Contains("<b>Held for a person (1):</b>", section);
        Assert.Contains("<td>acme/invoice-export/INV-9</td><td>OrphanDownstream</td><td class=\"num\">3 USD</td>", section);
    }

    [Fact]
    public async Task Text_in_every_section_is_html_encoded_so_no_injected_script_runs()
    {
        const string Attack = "<script>document.title='pwned'</script>";
        var gates = new GateReport(new ReleaseManifest { ReleaseId = "r-1", Version = "1.0" }, "prod", [GateStage.Promotion],
            [new GateRound(1, ReleaseReportSamples.Deploy, TimeSpan.Zero, [new GateEntry("gate" + Attack, GateStage.Promotion, GateResult.Fail("reason" + Attack, Evidence.Of("evidence" + Attack, Attack)))])],
            ReleaseReportSamples.Deploy, ReleaseReportSamples.Deploy, Verdict.Fail, "fail", sampled: false);
        var report = new ReleaseReport(gates)
        {
            Health = ReleaseReportSamples.Health(criterionPrefix: Attack),
            Reconciliation = await ReleaseReportSamples.ReconciliationAsync(_directory, heldKey: "INV" + Attack),
        };

        var html = Html(report);

        Assert.DoesNotContain(Attack, html);
        Assert.Equal(1, Regex.Count(html, "<script"));
        Assert.Contains("gate&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;", html);
        Assert.Contains("data-criterion=\"&lt;script&gt;", html);
        Assert.Contains("acme/invoice-export/INV&lt;script&gt;", html);
    }

    [Fact]
    public async Task The_same_report_gives_the_same_bytes_whatever_order_the_health_reports_come_in()
    {
        var full = await ReleaseReportSamples.FullAsync(_directory);
        var reordered = new ReleaseReport(full.Gates) { MigrationPlan = full.MigrationPlan, Health = [.. full.Health.Reverse()], Reconciliation = full.Reconciliation };

        var first = new MemoryStream();
        HtmlReleaseReportWriter.Write(full, first);
        var second = new MemoryStream();
        HtmlReleaseReportWriter.Write(full, second);
        var third = new MemoryStream();
        HtmlReleaseReportWriter.Write(reordered, third);

        Assert.Equal(first.ToArray(), second.ToArray());
        Assert.Equal(first.ToArray(), third.ToArray());
        Assert.False(first.ToArray().AsSpan().StartsWith(Encoding.UTF8.Preamble), "no byte order mark");
    }

    [GeneratedRegex(@"(src|href)\s*=|<link|url\(|@import", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}
