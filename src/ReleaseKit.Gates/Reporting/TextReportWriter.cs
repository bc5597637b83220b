namespace ReleaseKit.Gates.Reporting;

/// <summary>
/// Plain text for a terminal or a CI log: a header, one aligned line per gate with its evidence indented
/// below, a summary line and, for a sampled run, every round. No colours or control characters.
/// </summary>
internal static class TextReportWriter
{
    private const string Indent = "  ";
    private const string EvidenceIndent = "      ";
    private const int MaxNameColumn = 40;

    public static void Write(ReportView report, TextWriter writer)
    {
        writer.WriteLine($"Release gates {ReportText.Upper(report.Verdict)}: release {report.ReleaseId}, version {report.Version}, environment {report.Environment}");
        writer.WriteLine(Indent + string.Join(", ", Details(report)));
        writer.WriteLine();

        var entries = report.Entries;
        if (entries.Count == 0)
        {
            writer.WriteLine(Indent + "No gate ran.");
        }

        var nameWidth = Math.Min(MaxNameColumn, entries.Count == 0 ? 0 : entries.Max(e => e.Name.Length));
        var stageWidth = entries.Count == 0 ? 0 : entries.Max(e => ReportText.Stage(e.Stage).Length);
        var durationWidth = entries.Count == 0 ? 0 : entries.Max(e => ReportText.Duration(e.Duration).Length);
        foreach (var entry in entries)
        {
            var line = string.Join(
                "  ",
                ReportText.Upper(entry.Verdict).PadRight(12),
                entry.Name.PadRight(nameWidth),
                ReportText.Stage(entry.Stage).PadRight(stageWidth),
                ReportText.Duration(entry.Duration).PadLeft(durationWidth),
                ReportText.OneLine(entry.Reason) + Notes(entry));
            writer.WriteLine(Indent + line.TrimEnd());
            if (entry.Error is { } error)
            {
                writer.WriteLine($"{EvidenceIndent}error: {error.Type}: {ReportText.OneLine(error.Message)}");
            }

            foreach (var evidence in entry.Evidence)
            {
                writer.WriteLine(EvidenceIndent + ReportText.OneLine(ReportText.Evidence(evidence)));
            }
        }

        writer.WriteLine();
        writer.WriteLine($"Summary: {ReportText.Upper(report.Verdict)} ({ReportText.Counts(report.Counts)}) in {ReportText.Duration(report.Duration)}, exit code {report.ExitCode}. {ReportText.OneLine(report.Summary)}");

        if (report.Sampled)
        {
            writer.WriteLine();
            writer.WriteLine($"Rounds ({report.Rounds.Count}, sampled; the last decides):");
            foreach (var round in report.Rounds)
            {
                var blocking = round.Entries.Where(e => e.IsBlocking).Select(e => e.Name).ToList();
                var note = blocking.Count == 0 ? string.Empty : "  blocking: " + string.Join(", ", blocking);
                writer.WriteLine($"{Indent}round {round.Number,3}  {ReportText.Timestamp(round.StartedAt)}  {ReportText.Upper(round.Verdict),-12}  {ReportText.Duration(round.Duration)}{note}");
            }
        }
    }

    private static IEnumerable<string> Details(ReportView report)
    {
        if (report.Commit is not null)
        {
            yield return "commit " + report.Commit;
        }

        if (report.ArtifactDigest is not null)
        {
            yield return "artifact " + report.ArtifactDigest;
        }

        yield return "stages " + (report.Stages.Count == 0 ? "(none)" : string.Join(" ", report.Stages.Select(ReportText.Stage)));
        yield return "started " + ReportText.Timestamp(report.StartedAt);
        yield return "took " + ReportText.Duration(report.Duration);
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

        return notes.Count == 0 ? string.Empty : $" [{string.Join("; ", notes)}]";
    }
}
