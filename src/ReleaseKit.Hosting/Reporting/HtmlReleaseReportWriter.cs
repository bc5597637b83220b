using System.Globalization;
using System.Net;
using System.Text;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Reporting;

namespace ReleaseKit.Hosting;

/// <summary>
/// Writes a <see cref="ReleaseReport"/> as one self-contained HTML page: no external assets (inline CSS, inline SVG, one tiny
/// inline script and a Content-Security-Policy that forbids loading anything). The verdict of the gate run comes first,
/// then each gate with its evidence (and every round when the run was sampled), then — when the report carries them —
/// the migration plan, the health criteria per window with a chart of each criterion's signal against its threshold and
/// baseline, and the reconciliation summary.
/// </summary>
/// <remarks>
/// Every text is HTML-encoded, and the page renders the same redacted view as the text, JSON, JUnit and Markdown reports
/// of ReleaseKit.Gates (the other sections' texts pass the same redaction), so it shows no secret the others hide. The
/// output is deterministic: the same report gives the same bytes (lists are sorted, numbers use the invariant culture).
/// The inline script only sets <c>data-report-ready="1"</c> on the root element: a browser test uses it as the sentinel
/// that scripts ran without error.
/// </remarks>
public static partial class HtmlReleaseReportWriter
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes the report to a text writer.</summary>
    /// <param name="report">The report.</param>
    /// <param name="writer">Where to write; it is flushed, not closed.</param>
    public static void Write(ReleaseReport report, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Render(report, ReportView.From(report.Gates)));
        writer.Flush();
    }

    /// <summary>Writes the report to a stream as UTF-8 (without a byte order mark).</summary>
    /// <param name="report">The report.</param>
    /// <param name="stream">Where to write; it is flushed, not closed.</param>
    public static void Write(ReleaseReport report, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new StreamWriter(stream, Utf8NoBom, bufferSize: 4096, leaveOpen: true) { NewLine = "\n" };
        Write(report, writer);
    }

    private static string Render(ReleaseReport report, ReportView view)
    {
        var html = new StringBuilder(8192);
        var verdict = view.Verdict.ToWireName();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\" data-verdict=\"").Append(verdict).Append("\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(ReportText.Upper(view.Verdict)).Append(" · release ").Append(E(view.ReleaseId)).Append(" → ").Append(E(view.Environment)).Append("</title>\n")
            .Append("<style>").Append(Css).Append("</style>\n</head>\n<body>\n");

        // Verdict first.
        html.Append("<header class=\"verdict v-").Append(verdict).Append("\" id=\"verdict\">\n")
            .Append("<div class=\"badge\">").Append(ReportText.Upper(view.Verdict)).Append("</div>\n<div>\n")
            .Append("<h1>Release ").Append(E(view.ReleaseId)).Append(" <small>").Append(E(view.Version)).Append("</small> → ").Append(E(view.Environment)).Append("</h1>\n")
            .Append("<p class=\"summary\">").Append(E(view.Summary)).Append("</p>\n")
            .Append("<p class=\"meta\">").Append(E(ReportText.Counts(view.Counts))).Append(" · stages ")
            .Append(E(string.Join(", ", view.Stages.Select(ReportText.Stage)))).Append(" · ").Append(ReportText.Timestamp(view.StartedAt))
            .Append(" · ").Append(ReportText.Duration(view.Duration));
        if (view.Sampled)
        {
            html.Append(" · sampled, ").Append(view.Rounds.Count.ToString(CultureInfo.InvariantCulture)).Append(view.Rounds.Count == 1 ? " round" : " rounds");
        }

        html.Append(" · exit code ").Append(view.ExitCode.ToString(CultureInfo.InvariantCulture)).Append("</p>\n");
        AppendSectionSummary(html, report);
        html.Append("</div>\n");
        AppendCountsChart(html, view.Counts);
        html.Append("</header>\n<main>\n");

        AppendManifest(html, view);
        html.Append("<section><h2>Gates</h2>\n");
        foreach (var entry in view.Entries)
        {
            AppendEntry(html, entry);
        }

        html.Append("</section>\n");
        if (view.Sampled)
        {
            AppendRounds(html, view);
        }

        AppendSections(html, report);

        html.Append("</main>\n<footer>ReleaseKit · generated ").Append(ReportText.Timestamp(view.CompletedAt)).Append("</footer>\n")
            .Append("<script>document.documentElement.setAttribute('data-report-ready','1');</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendManifest(StringBuilder html, ReportView view)
    {
        html.Append("<section><h2>Release</h2>\n<dl class=\"manifest\">\n");
        Row(html, "Release id", view.ReleaseId);
        Row(html, "Version", view.Version);
        Row(html, "Commit", view.Commit);
        Row(html, "Artifact digest", view.ArtifactDigest);
        Row(html, "Build time", view.BuildTime is { } built ? ReportText.Timestamp(built) : null);
        Row(html, "Author", view.Author);
        Row(html, "Approvers", view.Approvers.Count == 0 ? null : string.Join(", ", view.Approvers));
        Row(html, "Change classes", view.ChangeClasses.Count == 0 ? null : string.Join(", ", view.ChangeClasses));
        Row(html, "Migrations", view.Migrations.Count == 0 ? null : string.Join(", ", view.Migrations));
        Row(html, "Feature flags", view.FeatureFlags.Count == 0 ? null : string.Join(", ", view.FeatureFlags));
        Row(html, "Rollback", view.RollbackInstructions);
        Row(html, "Manifest", view.ManifestSource);
        html.Append("</dl></section>\n");

        static void Row(StringBuilder html, string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                html.Append("<dt>").Append(name).Append("</dt><dd>").Append(E(value)).Append("</dd>\n");
            }
        }
    }

    private static void AppendEntry(StringBuilder html, EntryView entry)
    {
        var verdict = entry.Verdict.ToWireName();
        html.Append("<article class=\"gate v-").Append(verdict).Append("\" data-gate=\"").Append(E(entry.Name)).Append("\">\n<h3><span class=\"pill\">")
            .Append(ReportText.Upper(entry.Verdict)).Append("</span> ").Append(E(entry.Name)).Append("</h3>\n<p class=\"meta\">")
            .Append(ReportText.Stage(entry.Stage)).Append(" · ").Append(ReportText.Severity(entry.Severity));
        if (entry.DryRun)
        {
            html.Append(" · dry run (raw verdict ").Append(entry.RawVerdict.ToWireName()).Append(", not counted)");
        }

        if (entry.Tags.Count > 0)
        {
            html.Append(" · tags ").Append(E(string.Join(", ", entry.Tags)));
        }

        html.Append(" · ").Append(ReportText.Duration(entry.Duration));
        if (entry.Attempts > 1)
        {
            html.Append(" · ").Append(entry.Attempts.ToString(CultureInfo.InvariantCulture)).Append(" attempts");
        }

        html.Append("</p>\n<p class=\"reason\">").Append(E(entry.Reason)).Append("</p>\n");
        if (entry.Error is { } error)
        {
            html.Append("<p class=\"error\"><b>").Append(E(error.Type)).Append("</b>: ").Append(E(error.Message)).Append("</p>\n");
        }

        if (entry.Evidence.Count > 0)
        {
            html.Append("<table class=\"evidence\"><thead><tr><th>Evidence</th><th>Observed</th><th>Threshold</th><th>Source</th></tr></thead><tbody>\n");
            foreach (var evidence in entry.Evidence)
            {
                var unit = evidence.Unit is { Length: > 0 } u ? " " + u : string.Empty;
                html.Append("<tr").Append(evidence.Sensitive ? " class=\"secret\"" : string.Empty).Append("><td>").Append(E(evidence.Name)).Append("</td><td>")
                    .Append(E(evidence.Observed is null ? "(none)" : evidence.Observed + unit)).Append("</td><td>")
                    .Append(E(evidence.Threshold is null ? string.Empty : evidence.Threshold + unit)).Append("</td><td>")
                    .Append(E(evidence.Source ?? string.Empty)).Append("</td></tr>\n");
            }

            html.Append("</tbody></table>\n");
        }

        html.Append("</article>\n");
    }

    private static void AppendRounds(StringBuilder html, ReportView view)
    {
        html.Append("<section><h2>Rounds</h2>\n");
        var names = view.Rounds.SelectMany(r => r.Entries).Select(e => e.Name).Distinct(StringComparer.Ordinal).ToArray();
        const int Cell = 18, Label = 180, Top = 22;
        var width = Label + (view.Rounds.Count * (Cell + 4)) + 8;
        var height = Top + (names.Length * (Cell + 4)) + 4;
        html.Append("<svg class=\"rounds\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Verdict of each gate in each round\" width=\"")
            .Append(width.ToString(CultureInfo.InvariantCulture)).Append("\" height=\"").Append(height.ToString(CultureInfo.InvariantCulture)).Append("\">\n");
        for (var r = 0; r < view.Rounds.Count; r++)
        {
            var x = Label + (r * (Cell + 4));
            html.Append("<text x=\"").Append((x + (Cell / 2)).ToString(CultureInfo.InvariantCulture)).Append("\" y=\"14\" text-anchor=\"middle\">")
                .Append(view.Rounds[r].Number.ToString(CultureInfo.InvariantCulture)).Append("</text>\n");
        }

        for (var g = 0; g < names.Length; g++)
        {
            var y = Top + (g * (Cell + 4));
            html.Append("<text x=\"0\" y=\"").Append((y + 13).ToString(CultureInfo.InvariantCulture)).Append("\">").Append(E(names[g])).Append("</text>\n");
            for (var r = 0; r < view.Rounds.Count; r++)
            {
                var entry = view.Rounds[r].Entries.FirstOrDefault(e => string.Equals(e.Name, names[g], StringComparison.Ordinal));
                var x = Label + (r * (Cell + 4));
                var cls = entry is null ? "none" : entry.Verdict.ToWireName();
                html.Append("<rect class=\"c-").Append(cls).Append("\" x=\"").Append(x.ToString(CultureInfo.InvariantCulture)).Append("\" y=\"").Append(y.ToString(CultureInfo.InvariantCulture))
                    .Append("\" width=\"").Append(Cell.ToString(CultureInfo.InvariantCulture)).Append("\" height=\"").Append(Cell.ToString(CultureInfo.InvariantCulture)).Append("\" rx=\"3\"><title>round ")
                    .Append(view.Rounds[r].Number.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(E(names[g])).Append(' ').Append(cls).Append("</title></rect>\n");
            }
        }

        html.Append("</svg>\n<table class=\"round-list\"><thead><tr><th>Round</th><th>Started</th><th>Duration</th><th>Verdict</th><th>Gates</th></tr></thead><tbody>\n");
        foreach (var round in view.Rounds)
        {
            html.Append("<tr class=\"v-").Append(round.Verdict.ToWireName()).Append("\"><td>").Append(round.Number.ToString(CultureInfo.InvariantCulture)).Append("</td><td>")
                .Append(ReportText.Timestamp(round.StartedAt)).Append("</td><td>").Append(ReportText.Duration(round.Duration)).Append("</td><td>")
                .Append(ReportText.Upper(round.Verdict)).Append("</td><td>");
            html.Append(E(string.Join("; ", round.Entries.Select(e => $"{e.Name}: {e.Verdict.ToWireName()} — {ReportText.OneLine(e.Reason)}")))).Append("</td></tr>\n");
        }

        html.Append("</tbody></table></section>\n");
    }

    private static void AppendCountsChart(StringBuilder html, ReportCounts counts)
    {
        // A stacked bar of the deciding round's verdicts.
        const int Width = 240;
        (int Count, string Cls)[] parts = [(counts.Pass, "pass"), (counts.Warn, "warn"), (counts.Inconclusive, "inconclusive"), (counts.Fail, "fail")];
        var total = Math.Max(1, counts.Counted);
        html.Append("<svg class=\"counts\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"").Append(E(ReportText.Counts(counts)))
            .Append("\" width=\"").Append(Width.ToString(CultureInfo.InvariantCulture)).Append("\" height=\"20\">");
        double x = 0;
        foreach (var (count, cls) in parts)
        {
            if (count == 0)
            {
                continue;
            }

            var w = Width * count / (double)total;
            html.Append("<rect class=\"c-").Append(cls).Append("\" x=\"").Append(x.ToString("0.##", CultureInfo.InvariantCulture)).Append("\" y=\"0\" width=\"")
                .Append(w.ToString("0.##", CultureInfo.InvariantCulture)).Append("\" height=\"20\"><title>").Append(count.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(cls).Append("</title></rect>");
            x += w;
        }

        html.Append("</svg>\n");
    }

    private static string E(string? value) => WebUtility.HtmlEncode(value ?? string.Empty);

    private const string Css = """
        :root{--pass:#1a7f37;--warn:#9a6700;--inconclusive:#6e7781;--fail:#cf222e;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
        body{margin:0 auto;max-width:1000px;padding:16px}
        .verdict{display:flex;gap:16px;align-items:center;flex-wrap:wrap;border-radius:8px;padding:16px;border:2px solid var(--c);background:color-mix(in srgb,var(--c) 8%,#fff)}
        .v-pass{--c:var(--pass)}.v-warn{--c:var(--warn)}.v-inconclusive{--c:var(--inconclusive)}.v-fail{--c:var(--fail)}
        .badge{font-size:2rem;font-weight:700;color:#fff;background:var(--c);padding:8px 16px;border-radius:6px}
        h1{margin:0;font-size:1.4rem}h1 small{color:#59636e;font-weight:400}
        .summary{margin:4px 0;font-size:1.05rem}.meta{margin:2px 0;color:#59636e;font-size:.9rem}
        section{margin-top:24px}h2{font-size:1.15rem;border-bottom:1px solid #d1d9e0;padding-bottom:4px}
        dl.manifest{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dt{font-weight:600}dd{margin:0;word-break:break-all}
        .gate{border-left:4px solid var(--c);padding:4px 12px;margin:12px 0;background:#f6f8fa;border-radius:0 6px 6px 0}
        .gate h3{margin:4px 0;font-size:1.05rem}.pill{color:#fff;background:var(--c);border-radius:10px;padding:1px 8px;font-size:.8rem}
        .reason{margin:4px 0}.error{color:var(--fail)}
        table{border-collapse:collapse;margin:6px 0;font-size:.9rem}th,td{border:1px solid #d1d9e0;padding:3px 8px;text-align:left;vertical-align:top}
        tr.secret td:nth-child(2){font-family:monospace}
        .c-pass{fill:var(--pass)}.c-warn{fill:var(--warn)}.c-inconclusive{fill:var(--inconclusive)}.c-fail{fill:var(--fail)}.c-none{fill:#eaeef2}
        svg text{font-size:12px;fill:#1f2328}
        footer{margin-top:32px;color:#59636e;font-size:.8rem}
        .explain{color:#59636e;margin:4px 0 8px}.also{margin:4px 0;font-size:.9rem}
        tr.v-pass td:first-child,tr.v-warn td:first-child,tr.v-fail td:first-child,tr.v-inconclusive td:first-child{border-left:4px solid var(--c)}
        .health{border-left:4px solid var(--c);padding:4px 12px;margin:12px 0;border-radius:0 6px 6px 0}
        .criterion{border-top:1px solid #d1d9e0;padding:6px 0;margin:6px 0}.criterion h4{margin:4px 0;font-size:1rem}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0;font-size:.9rem}
        svg.chart{background:#fff;border:1px solid #d1d9e0;border-radius:4px;margin:4px 0}
        svg.chart .axis{stroke:#59636e;stroke-width:1}svg.chart .series{fill:none;stroke:#0969da;stroke-width:1.5}
        svg.chart .pt{fill:#0969da}svg.chart .threshold{stroke:var(--fail);stroke-width:1.5;stroke-dasharray:6 4}
        svg.chart .baseline{stroke:#8250df;stroke-width:1.5;stroke-dasharray:2 3}svg.chart .tick{font-size:10px;fill:#59636e}
        svg.chart .axis-label{font-size:10px;fill:#1f2328}svg.chart .legend-threshold{fill:var(--fail)}svg.chart .legend-baseline{fill:#8250df}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        """;
}
