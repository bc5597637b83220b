using ReleaseKit.Gates;

namespace ReleaseKit.Hosting;

/// <summary>
/// Writes a <see cref="GateReport"/> alone as one self-contained HTML page: the gates-only form of
/// <see cref="HtmlReleaseReportWriter"/> (no migration, health or reconciliation section), with the verdict at the top,
/// each gate with its evidence, and every round when the run was sampled.
/// </summary>
/// <remarks>
/// The page renders the same redacted view as the text, JSON, JUnit and Markdown reports of ReleaseKit.Gates, so it shows
/// no secret the others hide. The inline script only sets <c>data-report-ready="1"</c> on the root element: a browser test
/// uses it as the sentinel that scripts ran without error.
/// </remarks>
public static class HtmlGateReportWriter
{
    /// <summary>Writes the report to a text writer.</summary>
    /// <param name="report">The report.</param>
    /// <param name="writer">Where to write; it is flushed, not closed.</param>
    public static void Write(GateReport report, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(report);
        HtmlReleaseReportWriter.Write(new ReleaseReport(report), writer);
    }

    /// <summary>Writes the report to a stream as UTF-8 (without a byte order mark).</summary>
    /// <param name="report">The report.</param>
    /// <param name="stream">Where to write; it is flushed, not closed.</param>
    public static void Write(GateReport report, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(report);
        HtmlReleaseReportWriter.Write(new ReleaseReport(report), stream);
    }
}
