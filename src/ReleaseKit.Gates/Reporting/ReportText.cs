using System.Globalization;

namespace ReleaseKit.Gates.Reporting;

/// <summary>The spellings every report format shares: stage and severity names, durations, timestamps.</summary>
internal static class ReportText
{
    /// <summary>The stage's wire name: <c>startup</c>, <c>promotion</c> or <c>postdeploy</c>.</summary>
    public static string Stage(GateStage stage) => ReleaseGateRunner.StageName(stage);

    /// <summary>The severity's wire name: <c>blocking</c> or <c>advisory</c>.</summary>
    public static string Severity(GateSeverity severity) => severity switch
    {
        GateSeverity.Blocking => "blocking",
        GateSeverity.Advisory => "advisory",
        _ => severity.ToString().ToLowerInvariant(),
    };

    /// <summary>A duration for people: <c>0.012s</c>, <c>1.500s</c>, <c>2m 03.5s</c>.</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromMinutes(1))
        {
            return Math.Max(0, duration.TotalSeconds).ToString("0.000", CultureInfo.InvariantCulture) + "s";
        }

        var minutes = (long)duration.TotalMinutes;
        var seconds = duration.TotalSeconds - (minutes * 60);
        return string.Create(CultureInfo.InvariantCulture, $"{minutes}m {seconds:00.0}s");
    }

    /// <summary>A duration in seconds with millisecond precision, invariant culture (JUnit's <c>time</c>).</summary>
    public static string Seconds(TimeSpan duration) =>
        Math.Max(0, duration.TotalSeconds).ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>An ISO 8601 UTC timestamp: <c>2026-11-03T09:15:00.25Z</c> (no trailing zeros).</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>The verdict in capitals for plain text: <c>PASS</c>, <c>WARN</c>, <c>INCONCLUSIVE</c>, <c>FAIL</c>.</summary>
    public static string Upper(Verdict verdict) => verdict.ToWireName().ToUpperInvariant();

    /// <summary>One line for an evidence item: <c>p99 = 420ms (threshold 300ms) [source: prometheus]</c>.</summary>
    public static string Evidence(EvidenceView evidence)
    {
        // Symbols abut the number (12ms, 99.5%); words get a space (4 tests).
        var unit = evidence.Unit is { Length: > 0 } u ? (u.Length <= 2 || u == "%" ? u : " " + u) : string.Empty;
        var text = $"{evidence.Name} = {evidence.Observed ?? "(none)"}{(evidence.Observed is null ? string.Empty : unit)}";
        if (evidence.Threshold is not null)
        {
            text += $" (threshold {evidence.Threshold}{unit})";
        }

        if (evidence.Source is not null)
        {
            text += $" [source: {evidence.Source}]";
        }

        return text;
    }

    /// <summary>Counts for a summary line: <c>3 gates: 1 pass, 1 warn, 1 fail; 1 dry-run</c>.</summary>
    public static string Counts(ReportCounts counts)
    {
        var parts = new List<string>(5);
        if (counts.Pass > 0)
        {
            parts.Add($"{counts.Pass} pass");
        }

        if (counts.Warn > 0)
        {
            parts.Add($"{counts.Warn} warn");
        }

        if (counts.Inconclusive > 0)
        {
            parts.Add($"{counts.Inconclusive} inconclusive");
        }

        if (counts.Fail > 0)
        {
            parts.Add($"{counts.Fail} fail");
        }

        var text = $"{counts.Counted} gate{(counts.Counted == 1 ? string.Empty : "s")}";
        if (parts.Count > 0)
        {
            text += ": " + string.Join(", ", parts);
        }

        if (counts.DryRun > 0)
        {
            text += $"; {counts.DryRun} dry-run";
        }

        return text;
    }

    /// <summary>Replaces line breaks with spaces, for formats that show a value on one line.</summary>
    public static string OneLine(string value) =>
        value.AsSpan().IndexOfAny('\r', '\n') < 0 ? value : value.ReplaceLineEndings(" ");
}
