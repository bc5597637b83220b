using System.Buffers;
using System.Text;
using ReleaseKit.Gates.Reporting;

namespace ReleaseKit.Gates;

/// <summary>The formats a <see cref="GateReport"/> can be written in.</summary>
public enum GateReportFormat
{
    /// <summary>Plain text for a terminal or a CI log (<c>text</c>).</summary>
    Text = 0,

    /// <summary>JSON with a versioned schema, documented in <c>docs/reports.md</c> (<c>json</c>).</summary>
    Json = 1,

    /// <summary>JUnit XML for CI test reporting: one test suite per stage, one test case per gate (<c>junit</c>).</summary>
    JUnit = 2,

    /// <summary>GitHub-flavoured Markdown for a pull-request comment (<c>markdown</c>).</summary>
    Markdown = 3,
}

/// <summary>
/// Writes a <see cref="GateReport"/> as text, JSON, JUnit XML or Markdown.
/// </summary>
/// <remarks>
/// Secrets are redacted in every format before anything is written: the values of evidence marked
/// <see cref="Evidence.IsSensitive"/> (wherever they occur in the report), and anything that looks like a
/// credential: <c>Password=</c>/<c>token=</c>/<c>AccountKey=</c>-style pairs, <c>Bearer</c> tokens, the
/// password in <c>scheme://user:password@host</c>, JWTs, AWS access key ids and GitHub tokens. They are shown
/// as <c>***</c>.
/// </remarks>
/// <example>
/// <code>
/// var report = await runner.RunAsync(request, cancellationToken);
/// await using var file = File.Create("gates.xml");
/// GateReportWriter.Write(report, GateReportFormat.JUnit, file);
/// </code>
/// </example>
public static class GateReportWriter
{
    /// <summary>The <c>schemaVersion</c> of the JSON report this version writes.</summary>
    public const int JsonSchemaVersion = JsonReportWriter.SchemaVersion;

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Gets the names <see cref="ParseFormat(string)"/> accepts: <c>text</c>, <c>json</c>, <c>junit</c>, <c>markdown</c>.</summary>
    public static IReadOnlyList<string> FormatNames { get; } = ["text", "json", "junit", "markdown"];

    /// <summary>Writes a report to a text writer.</summary>
    /// <param name="report">The report.</param>
    /// <param name="format">The format.</param>
    /// <param name="writer">Where to write; it is flushed, not closed.</param>
    /// <remarks>The JUnit XML declaration names <paramref name="writer"/>'s encoding.</remarks>
    public static void Write(GateReport report, GateReportFormat format, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(writer);
        ThrowIfUndefined(format);
        var view = ReportView.From(report);
        switch (format)
        {
            case GateReportFormat.Json:
                var buffer = new ArrayBufferWriter<byte>();
                JsonReportWriter.Write(view, buffer);
                writer.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
                writer.Write('\n');
                break;
            case GateReportFormat.JUnit:
                JUnitReportWriter.Write(view, writer);
                writer.Write('\n');
                break;
            case GateReportFormat.Markdown:
                MarkdownReportWriter.Write(view, writer);
                break;
            default:
                TextReportWriter.Write(view, writer);
                break;
        }

        writer.Flush();
    }

    /// <summary>Writes a report to a stream as UTF-8 (without a byte order mark).</summary>
    /// <param name="report">The report.</param>
    /// <param name="format">The format.</param>
    /// <param name="stream">Where to write; it is flushed, not closed.</param>
    public static void Write(GateReport report, GateReportFormat format, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(stream);
        ThrowIfUndefined(format);
        var view = ReportView.From(report);
        switch (format)
        {
            case GateReportFormat.Json:
                JsonReportWriter.Write(view, stream);
                stream.WriteByte((byte)'\n');
                break;
            case GateReportFormat.JUnit:
                JUnitReportWriter.Write(view, stream);
                stream.WriteByte((byte)'\n');
                break;
            default:
                using (var writer = new StreamWriter(stream, Utf8NoBom, bufferSize: 4096, leaveOpen: true) { NewLine = "\n" })
                {
                    if (format == GateReportFormat.Markdown)
                    {
                        MarkdownReportWriter.Write(view, writer);
                    }
                    else
                    {
                        TextReportWriter.Write(view, writer);
                    }
                }

                break;
        }

        stream.Flush();
    }

    /// <summary>Parses a format name: <c>text</c>, <c>json</c>, <c>junit</c> or <c>markdown</c> (case-insensitive).</summary>
    /// <param name="name">The name, for example from a command-line option.</param>
    /// <returns>The format.</returns>
    /// <exception cref="ArgumentException">The name is not one of <see cref="FormatNames"/>; the message lists them.</exception>
    public static GateReportFormat ParseFormat(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParseFormat(name, out var format)
            ? format
            : throw new ArgumentException($"Unknown report format '{name}'. Allowed formats: {string.Join(", ", FormatNames)}.", nameof(name));
    }

    /// <summary>Parses a format name: <c>text</c>, <c>json</c>, <c>junit</c> or <c>markdown</c> (case-insensitive).</summary>
    /// <param name="name">The name.</param>
    /// <param name="format">The format, when the name is known.</param>
    /// <returns><see langword="true"/> when <paramref name="name"/> is one of <see cref="FormatNames"/>.</returns>
    public static bool TryParseFormat(string? name, out GateReportFormat format)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "text":
                format = GateReportFormat.Text;
                return true;
            case "json":
                format = GateReportFormat.Json;
                return true;
            case "junit":
                format = GateReportFormat.JUnit;
                return true;
            case "markdown":
                format = GateReportFormat.Markdown;
                return true;
            default:
                format = default;
                return false;
        }
    }

    private static void ThrowIfUndefined(GateReportFormat format)
    {
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, $"Unknown report format. Allowed formats: {string.Join(", ", FormatNames)}.");
        }
    }
}
