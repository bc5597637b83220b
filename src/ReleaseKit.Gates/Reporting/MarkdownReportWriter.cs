using System.Buffers;
using System.Text;

namespace ReleaseKit.Gates.Reporting;

/// <summary>
/// GitHub-flavoured Markdown for a pull-request comment: a heading with the verdict, a table of gates,
/// the evidence and (when sampled) the rounds folded in <c>&lt;details&gt;</c> blocks. Every value is escaped
/// so a pipe, a backtick or an HTML tag in a reason cannot break the table or inject markup.
/// </summary>
internal static class MarkdownReportWriter
{
    /// <summary>A dry-run gate's marker: its verdict is shown, but it never counts, so it gets no red cross.</summary>
    private const string DryRunEmoji = "🧪";

    private static readonly SearchValues<char> Specials = SearchValues.Create("\\|`*_~[]#!<>&@\r\n");

    public static void Write(ReportView report, TextWriter writer)
    {
        writer.Write($"## {Emoji(report.Verdict)} Release gates: {ReportText.Upper(report.Verdict)}\n\n");

        var facts = new List<string>
        {
            $"**Release** {Escape(report.ReleaseId)}",
            $"**Version** {Escape(report.Version)}",
            $"**Environment** {Escape(report.Environment)}",
            $"**Stages** {(report.Stages.Count == 0 ? "(none)" : string.Join(", ", report.Stages.Select(ReportText.Stage)))}",
        };
        if (report.Commit is not null)
        {
            facts.Add($"**Commit** {Escape(report.Commit)}");
        }

        if (report.ArtifactDigest is not null)
        {
            facts.Add($"**Artifact** {Escape(report.ArtifactDigest)}");
        }

        writer.Write(string.Join(" · ", facts) + "\n\n");
        writer.Write($"{Escape(report.Summary)}\n\n");

        if (report.Entries.Count == 0)
        {
            writer.Write("_No gate ran._\n\n");
        }
        else
        {
            writer.Write("| Verdict | Gate | Stage | Duration | Reason |\n");
            writer.Write("| --- | --- | --- | ---: | --- |\n");
            foreach (var entry in report.Entries)
            {
                writer.Write($"| {(entry.DryRun ? DryRunEmoji : Emoji(entry.Verdict))} {entry.Verdict.ToWireName()} | {Escape(entry.Name)} | {ReportText.Stage(entry.Stage)} | {ReportText.Duration(entry.Duration)} | {Escape(entry.Reason)}{Notes(entry)} |\n");
            }

            writer.Write('\n');
        }

        writer.Write($"**{ReportText.Counts(report.Counts)}** · took {ReportText.Duration(report.Duration)} · exit code {report.ExitCode}\n");

        WriteEvidence(report, writer);
        WriteRounds(report, writer);
    }

    private static void WriteEvidence(ReportView report, TextWriter writer)
    {
        var rows = report.Entries.Sum(e => e.Evidence.Count + (e.Error is null ? 0 : 1));
        if (rows == 0)
        {
            return;
        }

        writer.Write($"\n<details>\n<summary>Evidence ({rows})</summary>\n\n");
        writer.Write("| Gate | Evidence | Observed | Threshold | Source |\n");
        writer.Write("| --- | --- | --- | --- | --- |\n");
        foreach (var entry in report.Entries)
        {
            if (entry.Error is { } error)
            {
                writer.Write($"| {Escape(entry.Name)} | error | {Escape(error.Type)}: {Escape(error.Message)} |  |  |\n");
            }

            foreach (var evidence in entry.Evidence)
            {
                var unit = evidence.Unit ?? string.Empty;
                var observed = evidence.Observed is null ? "_(none)_" : Escape(evidence.Observed + unit);
                var threshold = evidence.Threshold is null ? string.Empty : Escape(evidence.Threshold + unit);
                var name = Escape(evidence.Name) + (evidence.Sensitive ? " 🔒" : string.Empty);
                writer.Write($"| {Escape(entry.Name)} | {name} | {observed} | {threshold} | {Escape(evidence.Source ?? string.Empty)} |\n");
            }
        }

        writer.Write("\n</details>\n");
    }

    private static void WriteRounds(ReportView report, TextWriter writer)
    {
        if (!report.Sampled)
        {
            return;
        }

        writer.Write($"\n<details>\n<summary>Sampling: {report.Rounds.Count} round{(report.Rounds.Count == 1 ? string.Empty : "s")} (the last decides)</summary>\n\n");
        writer.Write("| Round | Started (UTC) | Verdict | Duration | Blocking gates |\n");
        writer.Write("| ---: | --- | --- | ---: | --- |\n");
        foreach (var round in report.Rounds)
        {
            var blocking = string.Join(", ", round.Entries.Where(e => e.IsBlocking).Select(e => Escape(e.Name)));
            writer.Write($"| {round.Number} | {ReportText.Timestamp(round.StartedAt)} | {Emoji(round.Verdict)} {round.Verdict.ToWireName()} | {ReportText.Duration(round.Duration)} | {blocking} |\n");
        }

        writer.Write("\n</details>\n");
    }

    private static string Notes(EntryView entry)
    {
        var notes = new List<string>(3);
        if (entry.DryRun)
        {
            notes.Add("dry run, not counted");
        }

        if (entry.Verdict != entry.RawVerdict)
        {
            notes.Add($"{ReportText.Severity(entry.Severity)}: {entry.RawVerdict.ToWireName()} reported as {entry.Verdict.ToWireName()}");
        }

        if (entry.Attempts > 1)
        {
            notes.Add($"{entry.Attempts} attempts");
        }

        return notes.Count == 0 ? string.Empty : $" _({string.Join("; ", notes)})_";
    }

    /// <summary>The verdict's emoji: ✅ pass, ⚠️ warn, ❔ inconclusive, ❌ fail.</summary>
    internal static string Emoji(Verdict verdict) => verdict switch
    {
        Verdict.Pass => "✅",
        Verdict.Warn => "⚠️",
        Verdict.Inconclusive => "❔",
        _ => "❌",
    };

    /// <summary>
    /// Escapes a value for a Markdown table cell or inline text: Markdown punctuation gets a backslash,
    /// HTML-significant characters become entities and line breaks become <c>&lt;br&gt;</c>.
    /// </summary>
    internal static string Escape(string value)
    {
        if (value.AsSpan().IndexOfAny(Specials) < 0)
        {
            return value;
        }

        var text = new StringBuilder(value.Length + 16);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '\\' or '|' or '`' or '*' or '_' or '~' or '[' or ']' or '#' or '!':
                    text.Append('\\').Append(c);
                    break;
                case '<':
                    text.Append("&lt;");
                    break;
                case '>':
                    text.Append("&gt;");
                    break;
                case '&':
                    text.Append("&amp;");
                    break;
                case '\r':
                    if (i + 1 < value.Length && value[i + 1] == '\n')
                    {
                        i++;
                    }

                    text.Append("<br>");
                    break;
                case '\n':
                    text.Append("<br>");
                    break;
                case '@':
                    // A zero-width space after '@' keeps "@team" from notifying anyone when the report is posted as a
                    // pull-request comment; the text still reads "@team".
                    text.Append("@\u200B");
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }

        return text.ToString();
    }
}
