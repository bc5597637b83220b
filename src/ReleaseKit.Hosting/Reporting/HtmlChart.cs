using System.Globalization;
using System.Net;
using System.Text;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.HealthCriteria;

namespace ReleaseKit.Hosting;

/// <summary>Inline SVG charts of the HTML report: no script, no external asset, coordinates in the invariant culture.</summary>
internal static class HtmlChart
{
    public const int Width = 500;
    public const int Height = 150;
    public const int Left = 60;
    public const int Right = 120;
    public const int Top = 22;
    public const int Bottom = 34;
    private const int MaxMarkedPoints = 240;

    private static int PlotWidth => Width - Left - Right;

    private static int PlotHeight => Height - Top - Bottom;

    /// <summary>
    /// A sparkline of a series over <c>[from, to]</c> with its value axis from 0: the series as a polyline (and a circle with a
    /// tooltip per point, up to 240 points), a dashed line for the threshold and a dotted one for the baseline, each with a
    /// tooltip and a label, and axis labels. The label and the statistic's name are redacted and HTML-encoded here.
    /// </summary>
    public static void Sparkline(StringBuilder html, string label, string statistic, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<HealthSeriesPoint> points, double? threshold, double? baseline)
    {
        var encodedLabel = E(label);
        var encodedStatistic = E(statistic);
        if (to <= from)
        {
            to = from.AddTicks(1);
        }

        var max = points.Max(p => p.Value);
        max = Math.Max(max, Math.Max(threshold ?? 0, baseline ?? 0));
        var top = max > 0 ? max * 1.1 : 1;
        html.Append("<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"").Append(encodedLabel).Append("\" width=\"").Append(I(Width))
            .Append("\" height=\"").Append(I(Height)).Append("\" viewBox=\"0 0 ").Append(I(Width)).Append(' ').Append(I(Height)).Append("\" data-y-max=\"").Append(top.ToString("R", CultureInfo.InvariantCulture)).Append("\">\n<title>")
            .Append(encodedLabel).Append(": ").Append(encodedStatistic).Append(" in ").Append(I(points.Count)).Append(" time slices");
        if (threshold is { } t)
        {
            html.Append(", threshold ").Append(HtmlReleaseReportWriter.Number(t));
        }

        if (baseline is { } b)
        {
            html.Append(", baseline ").Append(HtmlReleaseReportWriter.Number(b));
        }

        var bottom = Top + PlotHeight;
        html.Append("</title>\n")
            .Append("<line class=\"axis\" x1=\"").Append(I(Left)).Append("\" y1=\"").Append(I(Top)).Append("\" x2=\"").Append(I(Left)).Append("\" y2=\"").Append(I(bottom)).Append("\"/>\n")
            .Append("<line class=\"axis\" x1=\"").Append(I(Left)).Append("\" y1=\"").Append(I(bottom)).Append("\" x2=\"").Append(I(Left + PlotWidth)).Append("\" y2=\"").Append(I(bottom)).Append("\"/>\n")
            .Append("<text class=\"tick\" x=\"").Append(I(Left - 4)).Append("\" y=\"").Append(I(Top + 8)).Append("\" text-anchor=\"end\">").Append(HtmlReleaseReportWriter.Number(top)).Append("</text>\n")
            .Append("<text class=\"tick\" x=\"").Append(I(Left - 4)).Append("\" y=\"").Append(I(bottom)).Append("\" text-anchor=\"end\">0</text>\n")
            .Append("<text class=\"tick\" x=\"").Append(I(Left)).Append("\" y=\"").Append(I(bottom + 12)).Append("\">").Append(Time(from)).Append("</text>\n")
            .Append("<text class=\"tick\" x=\"").Append(I(Left + PlotWidth)).Append("\" y=\"").Append(I(bottom + 12)).Append("\" text-anchor=\"end\">").Append(Time(to)).Append("</text>\n")
            .Append("<text class=\"axis-label\" x=\"").Append(I(Left + (PlotWidth / 2))).Append("\" y=\"").Append(I(Height - 4)).Append("\" text-anchor=\"middle\">time slice (UTC)</text>\n")
            .Append("<text class=\"axis-label\" x=\"").Append(I(Left)).Append("\" y=\"14\">↑ ").Append(E(Shorten(statistic))).Append("</text>\n");
        if (threshold is { } limit)
        {
            Reference(html, "threshold", "threshold", limit, Y(limit, top));
        }

        if (baseline is { } previous)
        {
            Reference(html, "baseline", "baseline (previous release)", previous, Y(previous, top));
        }

        var ticks = (to - from).Ticks;
        var xs = points.Select(p =>
        {
            var middle = (p.Start + (p.Width / 2) - from).Ticks;
            return Left + (PlotWidth * Math.Clamp(middle / (double)ticks, 0, 1));
        }).ToArray();
        html.Append("<polyline class=\"series\" points=\"");
        for (var i = 0; i < points.Count; i++)
        {
            html.Append(i == 0 ? string.Empty : " ").Append(C(xs[i])).Append(',').Append(C(Y(points[i].Value, top)));
        }

        html.Append("\"><title>").Append(encodedStatistic).Append(" per time slice</title></polyline>\n");
        if (points.Count <= MaxMarkedPoints)
        {
            for (var i = 0; i < points.Count; i++)
            {
                var point = points[i];
                html.Append("<circle class=\"pt\" cx=\"").Append(C(xs[i])).Append("\" cy=\"").Append(C(Y(point.Value, top))).Append("\" r=\"2.5\"><title>")
                    .Append(Time(point.Start)).Append(": ").Append(HtmlReleaseReportWriter.Number(point.Value)).Append(" (n=").Append(point.SampleSize.ToString(CultureInfo.InvariantCulture)).Append(")</title></circle>\n");
            }
        }

        html.Append("</svg>\n");
    }

    private static void Reference(StringBuilder html, string cls, string name, double value, double y)
    {
        var text = HtmlReleaseReportWriter.Number(value);
        html.Append("<line class=\"").Append(cls).Append("\" x1=\"").Append(I(Left)).Append("\" y1=\"").Append(C(y)).Append("\" x2=\"").Append(I(Left + PlotWidth)).Append("\" y2=\"").Append(C(y))
            .Append("\"><title>").Append(name).Append(' ').Append(text).Append("</title></line>\n")
            .Append("<text class=\"legend-").Append(cls).Append(" tick\" x=\"").Append(I(Left + PlotWidth + 4)).Append("\" y=\"").Append(C(y + 3)).Append("\">").Append(cls).Append(' ').Append(text).Append("</text>\n");
    }

    /// <summary>The y coordinate of a value on an axis from 0 (bottom) to <paramref name="top"/>.</summary>
    internal static double Y(double value, double top) => Top + PlotHeight - (PlotHeight * Math.Clamp(value / top, 0, 1));

    private static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length <= 56 ? text : text[..54] + "…";

    private static string E(string text) => WebUtility.HtmlEncode(SecretRedactor.Redact(text));

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string C(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
