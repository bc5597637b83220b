using System.Globalization;
using System.Text;
using System.Xml;

namespace ReleaseKit.Gates.Reporting;

/// <summary>
/// JUnit XML as CI systems read it (GitHub Actions reporters, GitLab, Azure DevOps, Jenkins): one
/// <c>&lt;testsuite&gt;</c> per stage named <c>releasekit.&lt;stage&gt;</c>, one <c>&lt;testcase&gt;</c> per gate
/// of the deciding (last) round.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A blocking gate that did not pass (Fail or Inconclusive) has a <c>&lt;failure&gt;</c>.</item>
/// <item>A dry-run gate is <c>&lt;skipped&gt;</c>, whatever its verdict: it never counts.</item>
/// <item>A Warn passes, with the caveat in <c>&lt;system-out&gt;</c>.</item>
/// <item>Fail closed: when the run blocks but no gate case failed (no gate ran, or sampling never held steady
/// long enough), a failing case <c>releasekit.run / release-verdict</c> carries the summary, so CI does not
/// read a blocked release as green.</item>
/// </list>
/// </remarks>
internal static class JUnitReportWriter
{
    public const string RunSuiteName = "releasekit.run";
    public const string VerdictCaseName = "release-verdict";

    public static void Write(ReportView report, Stream stream)
    {
        var settings = Settings();
        settings.Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        using var writer = XmlWriter.Create(stream, settings);
        Write(report, writer);
    }

    public static void Write(ReportView report, TextWriter textWriter)
    {
        using var writer = XmlWriter.Create(textWriter, Settings());
        Write(report, writer);
    }

    private static XmlWriterSettings Settings() => new()
    {
        Indent = true,
        IndentChars = "  ",
        NewLineChars = "\n",
        NewLineHandling = NewLineHandling.Entitize,
        CloseOutput = false,
    };

    private static void Write(ReportView report, XmlWriter writer)
    {
        // One suite per stage run, even a stage without gates (it shows what was checked), in stage order.
        var suites = report.Stages
            .Concat(report.Entries.Select(e => e.Stage))
            .Distinct()
            .Order()
            .Select(stage => (Name: "releasekit." + ReportText.Stage(stage), Cases: report.Entries.Where(e => e.Stage == stage).ToList()))
            .ToList();
        var verdictCase = !report.Verdict.IsPassing() && !report.Entries.Any(e => e.IsBlocking);

        var tests = report.Entries.Count + (verdictCase ? 1 : 0);
        var failures = report.Entries.Count(e => e.IsBlocking) + (verdictCase ? 1 : 0);
        var skipped = report.Entries.Count(e => e.DryRun);
        var time = TimeSpan.FromTicks(report.Entries.Sum(e => Math.Max(0, e.Duration.Ticks)));

        writer.WriteStartDocument();
        writer.WriteStartElement("testsuites");
        Attribute(writer, "name", $"releasekit {report.ReleaseId} {report.Environment}");
        WriteCounts(writer, tests, failures, skipped, time);

        foreach (var (name, cases) in suites)
        {
            writer.WriteStartElement("testsuite");
            Attribute(writer, "name", name);
            WriteCounts(
                writer,
                cases.Count,
                cases.Count(e => e.IsBlocking),
                cases.Count(e => e.DryRun),
                TimeSpan.FromTicks(cases.Sum(e => Math.Max(0, e.Duration.Ticks))));
            WriteSuiteHeader(writer, report);
            foreach (var entry in cases)
            {
                WriteCase(writer, name, entry);
            }

            WriteRounds(writer, report);
            writer.WriteEndElement();
        }

        if (verdictCase)
        {
            writer.WriteStartElement("testsuite");
            Attribute(writer, "name", RunSuiteName);
            WriteCounts(writer, 1, 1, 0, TimeSpan.Zero);
            WriteSuiteHeader(writer, report);
            writer.WriteStartElement("testcase");
            Attribute(writer, "classname", RunSuiteName);
            Attribute(writer, "name", VerdictCaseName);
            Attribute(writer, "time", ReportText.Seconds(TimeSpan.Zero));
            writer.WriteStartElement("failure");
            Attribute(writer, "message", ReportText.OneLine(report.Summary));
            Attribute(writer, "type", report.Verdict.ToWireName());
            Text(writer, report.Summary);
            writer.WriteEndElement();
            writer.WriteEndElement();
            WriteRounds(writer, report);
            writer.WriteEndElement();
        }

        writer.WriteEndElement();
        writer.WriteEndDocument();
        writer.Flush();
    }

    private static void WriteCounts(XmlWriter writer, int tests, int failures, int skipped, TimeSpan time)
    {
        Attribute(writer, "tests", tests.ToString(CultureInfo.InvariantCulture));
        Attribute(writer, "failures", failures.ToString(CultureInfo.InvariantCulture));
        Attribute(writer, "errors", "0");
        Attribute(writer, "skipped", skipped.ToString(CultureInfo.InvariantCulture));
        Attribute(writer, "time", ReportText.Seconds(time));
    }

    private static void WriteSuiteHeader(XmlWriter writer, ReportView report)
    {
        // The JUnit schema's timestamp has no zone; it is UTC.
        Attribute(writer, "timestamp", report.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        writer.WriteStartElement("properties");
        WriteProperty(writer, "releasekit.verdict", report.Verdict.ToWireName());
        WriteProperty(writer, "releasekit.summary", report.Summary);
        WriteProperty(writer, "releasekit.exitCode", report.ExitCode.ToString(CultureInfo.InvariantCulture));
        WriteProperty(writer, "release.id", report.ReleaseId);
        WriteProperty(writer, "release.version", report.Version);
        WriteProperty(writer, "release.commit", report.Commit);
        WriteProperty(writer, "release.artifactDigest", report.ArtifactDigest);
        WriteProperty(writer, "environment", report.Environment);
        WriteProperty(writer, "sampled", report.Sampled ? "true" : "false");
        WriteProperty(writer, "rounds", report.Rounds.Count.ToString(CultureInfo.InvariantCulture));
        writer.WriteEndElement();
    }

    private static void WriteCase(XmlWriter writer, string suiteName, EntryView entry)
    {
        writer.WriteStartElement("testcase");
        Attribute(writer, "classname", suiteName);
        Attribute(writer, "name", entry.Name);
        Attribute(writer, "time", ReportText.Seconds(entry.Duration));

        writer.WriteStartElement("properties");
        WriteProperty(writer, "verdict", entry.Verdict.ToWireName());
        WriteProperty(writer, "rawVerdict", entry.RawVerdict.ToWireName());
        WriteProperty(writer, "severity", ReportText.Severity(entry.Severity));
        WriteProperty(writer, "attempts", entry.Attempts.ToString(CultureInfo.InvariantCulture));
        if (entry.Tags.Count > 0)
        {
            WriteProperty(writer, "tags", string.Join(",", entry.Tags));
        }

        foreach (var evidence in entry.Evidence)
        {
            var value = evidence.Observed is null ? "(none)" : evidence.Observed + evidence.Unit;
            if (evidence.Threshold is not null)
            {
                value += $" (threshold {evidence.Threshold}{evidence.Unit})";
            }

            WriteProperty(writer, "evidence." + evidence.Name, value);
        }

        writer.WriteEndElement();

        if (entry.DryRun)
        {
            writer.WriteStartElement("skipped");
            Attribute(writer, "message", $"Dry run ({entry.Verdict.ToWireName()}): {ReportText.OneLine(entry.Reason)}");
            writer.WriteEndElement();
        }
        else if (entry.IsBlocking)
        {
            writer.WriteStartElement("failure");
            Attribute(writer, "message", ReportText.OneLine(entry.Reason));
            Attribute(writer, "type", entry.Verdict.ToWireName());
            Text(writer, Details(entry));
            writer.WriteEndElement();
        }

        if (entry.Verdict == Verdict.Warn && !entry.DryRun)
        {
            Element(writer, "system-out", "WARN: " + Details(entry));
        }

        writer.WriteEndElement();
    }

    private static void WriteRounds(XmlWriter writer, ReportView report)
    {
        if (!report.Sampled)
        {
            return;
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Sampled: {report.Rounds.Count} rounds; the last decides.\n");
        foreach (var round in report.Rounds)
        {
            var blocking = string.Join(", ", round.Entries.Where(e => e.IsBlocking).Select(e => e.Name));
            text.Append(CultureInfo.InvariantCulture, $"round {round.Number}: {round.Verdict.ToWireName()} at {ReportText.Timestamp(round.StartedAt)} ({ReportText.Duration(round.Duration)})");
            text.Append(blocking.Length == 0 ? "\n" : $"; blocking: {blocking}\n");
        }

        Element(writer, "system-out", text.ToString());
    }

    private static string Details(EntryView entry)
    {
        var text = new StringBuilder(entry.Reason);
        if (entry.Verdict != entry.RawVerdict)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{ReportText.Severity(entry.Severity)} gate: {entry.RawVerdict.ToWireName()} reported as {entry.Verdict.ToWireName()}");
        }

        if (entry.Error is { } error)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nerror: {error.Type}: {error.Message}");
        }

        foreach (var evidence in entry.Evidence)
        {
            text.Append('\n').Append(ReportText.Evidence(evidence));
        }

        return text.ToString();
    }

    private static void Attribute(XmlWriter writer, string name, string value) => writer.WriteAttributeString(name, Clean(value));

    private static void Text(XmlWriter writer, string value) => writer.WriteString(Clean(value));

    private static void Element(XmlWriter writer, string name, string value) => writer.WriteElementString(name, Clean(value));

    /// <summary>Replaces characters XML 1.0 cannot carry (control characters, lone surrogates) with U+FFFD, so one odd message cannot make the report unreadable.</summary>
    private static string Clean(string value)
    {
        var index = FirstInvalid(value, 0);
        if (index < 0)
        {
            return value;
        }

        var chars = value.ToCharArray();
        while (index >= 0)
        {
            chars[index] = '\uFFFD';
            index = FirstInvalid(value, index + 1);
        }

        return new string(chars);
    }

    private static int FirstInvalid(string value, int start)
    {
        for (var i = start; i < value.Length; i++)
        {
            var c = value[i];
            if (XmlConvert.IsXmlChar(c))
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            return i;
        }

        return -1;
    }

    private static void WriteProperty(XmlWriter writer, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        writer.WriteStartElement("property");
        Attribute(writer, "name", name);
        Attribute(writer, "value", value);
        writer.WriteEndElement();
    }
}
