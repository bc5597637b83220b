using BenchmarkDotNet.Attributes;
using ReleaseKit.Gates;
using ReleaseKit.Hosting;

namespace ReleaseKit.Benchmarks;

/// <summary>
/// The self-contained HTML report beside the anchor, ReleaseKit.Gates' Markdown report of the same run (same redacted
/// view, same evidence): what is measured is the cost of the page (CSS, SVG, encoding) over the simplest rich format.
/// </summary>
[MemoryDiagnoser]
public class HtmlReportBenchmarks
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);

    private GateReport _report = null!;

    [Params(10, 100)]
    public int Gates { get; set; }

    [Params(1, 6)]
    public int Rounds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var manifest = new ReleaseManifest { ReleaseId = "bench", Version = "1.0.0", Commit = new string('a', 40), ArtifactDigest = "sha256:" + new string('b', 64) };
        var rounds = new GateRound[Rounds];
        for (var r = 0; r < Rounds; r++)
        {
            var entries = new GateEntry[Gates];
            for (var g = 0; g < Gates; g++)
            {
                var result = g % 7 == 0
                    ? GateResult.Fail($"backlog of gate {g} is {r * 10} postings; token=abc{g}def", Evidence.Of("backlog", (long)(r * 10), 0L, "postings", "erp"), Evidence.Secret("token", $"abc{g}def-secret"))
                    : GateResult.Pass("ok", Evidence.Of("latency", 12.5, 300, "ms"));
                entries[g] = new GateEntry($"gate-{g}", GateStage.Promotion, result);
            }

            rounds[r] = new GateRound(r + 1, Start.AddMinutes(5 * r), TimeSpan.FromSeconds(1), entries);
        }

        _report = new GateReport(manifest, "production", [GateStage.Promotion], rounds, Start, Start.AddMinutes(5 * Rounds), Verdict.Fail, "blocked", sampled: Rounds > 1);
    }

    [Benchmark(Baseline = true)]
    public int Markdown()
    {
        using var writer = new StringWriter();
        GateReportWriter.Write(_report, GateReportFormat.Markdown, writer);
        return writer.GetStringBuilder().Length;
    }

    [Benchmark]
    public int Html()
    {
        using var writer = new StringWriter();
        HtmlGateReportWriter.Write(_report, writer);
        return writer.GetStringBuilder().Length;
    }
}
