using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace ReleaseKit.Gates.Reporting;

/// <summary>
/// The JSON report, schema version <see cref="SchemaVersion"/>, documented in <c>docs/reports.md</c>.
/// Written with <see cref="Utf8JsonWriter"/> (no reflection, AOT-safe). Every property is always present,
/// with <see langword="null"/> where a value is absent, so the shape never depends on the data.
/// </summary>
internal static class JsonReportWriter
{
    /// <summary>The schema version written as <c>schemaVersion</c>. Bump it on any breaking change.</summary>
    public const int SchemaVersion = 1;

    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,

        // Non-ASCII letters stay readable; HTML-sensitive characters are still escaped.
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
    };

    public static void Write(ReportView report, Stream stream)
    {
        using var writer = new Utf8JsonWriter(stream, Options);
        Write(report, writer);
    }

    public static void Write(ReportView report, System.Buffers.IBufferWriter<byte> buffer)
    {
        using var writer = new Utf8JsonWriter(buffer, Options);
        Write(report, writer);
    }

    private static void Write(ReportView report, Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", SchemaVersion);
        writer.WriteString("verdict", report.Verdict.ToWireName());
        writer.WriteNumber("exitCode", report.ExitCode);
        writer.WriteString("summary", report.Summary);
        writer.WriteString("environment", report.Environment);
        writer.WriteStartArray("stages");
        foreach (var stage in report.Stages)
        {
            writer.WriteStringValue(ReportText.Stage(stage));
        }

        writer.WriteEndArray();
        writer.WriteBoolean("sampled", report.Sampled);
        writer.WriteString("startedAt", ReportText.Timestamp(report.StartedAt));
        writer.WriteString("completedAt", ReportText.Timestamp(report.CompletedAt));
        writer.WriteNumber("durationSeconds", report.Duration.TotalSeconds);

        writer.WriteStartObject("release");
        writer.WriteString("id", report.ReleaseId);
        writer.WriteString("version", report.Version);
        writer.WriteString("commit", report.Commit);
        writer.WriteString("artifactDigest", report.ArtifactDigest);
        if (report.BuildTime is { } buildTime)
        {
            writer.WriteString("buildTime", ReportText.Timestamp(buildTime));
        }
        else
        {
            writer.WriteNull("buildTime");
        }

        writer.WriteString("author", report.Author);
        WriteStrings(writer, "approvers", report.Approvers);
        WriteStrings(writer, "changeClasses", report.ChangeClasses);
        WriteStrings(writer, "migrations", report.Migrations);
        WriteStrings(writer, "featureFlags", report.FeatureFlags);
        writer.WriteString("rollbackInstructions", report.RollbackInstructions);
        writer.WriteString("source", report.ManifestSource);
        writer.WriteEndObject();

        var counts = report.Counts;
        writer.WriteStartObject("counts");
        writer.WriteNumber("total", counts.Total);
        writer.WriteNumber("counted", counts.Counted);
        writer.WriteNumber("pass", counts.Pass);
        writer.WriteNumber("warn", counts.Warn);
        writer.WriteNumber("inconclusive", counts.Inconclusive);
        writer.WriteNumber("fail", counts.Fail);
        writer.WriteNumber("dryRun", counts.DryRun);
        writer.WriteNumber("blocking", counts.Blocking);
        writer.WriteEndObject();

        writer.WriteStartArray("rounds");
        foreach (var round in report.Rounds)
        {
            writer.WriteStartObject();
            writer.WriteNumber("number", round.Number);
            writer.WriteString("startedAt", ReportText.Timestamp(round.StartedAt));
            writer.WriteNumber("durationSeconds", round.Duration.TotalSeconds);
            writer.WriteString("verdict", round.Verdict.ToWireName());
            writer.WriteStartArray("entries");
            foreach (var entry in round.Entries)
            {
                WriteEntry(writer, entry);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
    }

    private static void WriteEntry(Utf8JsonWriter writer, EntryView entry)
    {
        writer.WriteStartObject();
        writer.WriteString("name", entry.Name);
        writer.WriteString("stage", ReportText.Stage(entry.Stage));
        writer.WriteString("severity", ReportText.Severity(entry.Severity));
        writer.WriteBoolean("dryRun", entry.DryRun);
        WriteStrings(writer, "tags", entry.Tags);
        writer.WriteString("verdict", entry.Verdict.ToWireName());
        writer.WriteString("rawVerdict", entry.RawVerdict.ToWireName());
        writer.WriteBoolean("blocking", entry.IsBlocking);
        writer.WriteString("reason", entry.Reason);
        writer.WriteNumber("attempts", entry.Attempts);
        writer.WriteNumber("durationSeconds", entry.Duration.TotalSeconds);
        if (entry.Error is { } error)
        {
            writer.WriteStartObject("error");
            writer.WriteString("type", error.Type);
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("error");
        }

        writer.WriteStartArray("evidence");
        foreach (var evidence in entry.Evidence)
        {
            writer.WriteStartObject();
            writer.WriteString("name", evidence.Name);
            writer.WriteString("observed", evidence.Observed);
            writer.WriteString("threshold", evidence.Threshold);
            writer.WriteString("unit", evidence.Unit);
            writer.WriteString("source", evidence.Source);
            writer.WriteBoolean("sensitive", evidence.Sensitive);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
