using System.Globalization;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>
/// Fails a release whose JUnit XML or TRX results show a failed test, too few tests, or too many skipped; fails
/// closed when no result file matches or a file cannot be read.
/// </summary>
internal sealed class TestOutcomesGate(IOptionsMonitor<TestOutcomeOptions> optionsMonitor) : IReleaseGate
{
    /// <summary>How many failed tests the evidence names before "and N more".</summary>
    internal const int ListedFailures = 20;

    /// <summary>How many files the evidence names before "and N more".</summary>
    internal const int ListedFiles = 50;

    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = optionsMonitor.Get(context.GateName);
        var baseDirectory = Path.GetFullPath(options.BaseDirectory ?? Directory.GetCurrentDirectory());
        var patterns = Evidence.Of("patterns", string.Join(", ", options.Patterns), source: baseDirectory);
        if (!Directory.Exists(baseDirectory))
        {
            return GateResult.Fail($"The base directory '{baseDirectory}' of the test result patterns does not exist, so no results could be read.", patterns);
        }

        var paths = FileGlob.Match(baseDirectory, options.Patterns);
        if (paths.Count == 0)
        {
            return GateResult.Fail(
                $"No test result files matched {string.Join(", ", options.Patterns.Select(p => $"'{p}'"))} under '{baseDirectory}'; without results the tests cannot be shown to pass.",
                patterns);
        }

        var files = new List<TestOutcomeFile>(paths.Count);
        var invalid = new List<(string Path, TestOutcomeFileException Error)>();
        foreach (var path in paths)
        {
            try
            {
                files.Add(await TestOutcomeParser.ParseAsync(path, ListedFailures, cancellationToken).ConfigureAwait(false));
            }
            catch (TestOutcomeFileException ex)
            {
                invalid.Add((path, ex));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                invalid.Add((path, new TestOutcomeFileException($"'{path}' could not be read: {ex.Message}", ex)));
            }
        }

        return Judge(options, baseDirectory, patterns, files, invalid);
    }

    private static GateResult Judge(TestOutcomeOptions options, string baseDirectory, Evidence patterns, List<TestOutcomeFile> files, List<(string Path, TestOutcomeFileException Error)> invalid)
    {
        long passed = files.Sum(f => (long)f.Passed);
        long failed = files.Sum(f => (long)f.Failed);
        long skipped = files.Sum(f => (long)f.Skipped);
        long total = passed + failed + skipped;
        var skippedRatio = total == 0 ? 0d : (double)skipped / total;

        var problems = new List<string>();
        if (invalid.Count > 0)
        {
            problems.Add(invalid.Count == 1
                ? $"A test result file cannot be read: {invalid[0].Error.Message}"
                : $"{invalid.Count} test result files cannot be read: {string.Join(" ", invalid.Select(i => i.Error.Message))}");
        }

        var failures = files.SelectMany(f => f.Failures).Take(ListedFailures).ToList();
        if (failed > 0)
        {
            var names = string.Join(", ", failures.Take(3).Select(f => f.Name));
            problems.Add(Invariant($"{failed} of {total} tests failed ({names}{(failed > 3 ? ", ..." : string.Empty)})."));
        }

        if (total < options.MinimumTests)
        {
            problems.Add(Invariant($"Only {total} tests were reported; at least {options.MinimumTests} are required (MinimumTests)."));
        }

        if (skippedRatio > options.MaxSkippedRatio)
        {
            problems.Add(Invariant($"{skippedRatio:P1} of the tests were skipped ({skipped} of {total}); at most {options.MaxSkippedRatio:P1} are allowed (MaxSkippedRatio {options.MaxSkippedRatio})."));
        }

        var evidence = new List<Evidence>
        {
            Evidence.Of("total", total, options.MinimumTests, "tests"),
            Evidence.Of("passed", passed, unit: "tests"),
            Evidence.Of("failed", failed, 0, "tests"),
            Evidence.Of("skipped", skipped, unit: "tests"),
            Evidence.Of("skipped_ratio", Math.Round(skippedRatio, 4), options.MaxSkippedRatio),
            patterns,
        };

        foreach (var file in files.Take(ListedFiles))
        {
            evidence.Add(new Evidence(
                "file",
                Relative(baseDirectory, file.Path),
                source: Invariant($"{file.Format}: {file.Total} tests, {file.Failed} failed, {file.Skipped} skipped")));
        }

        if (files.Count > ListedFiles)
        {
            evidence.Add(Evidence.Of("files_not_listed", Invariant($"and {files.Count - ListedFiles} more")));
        }

        foreach (var (path, error) in invalid)
        {
            evidence.Add(new Evidence("invalid_file", Relative(baseDirectory, path), source: error.LineNumber > 0 ? Invariant($"line {error.LineNumber}, position {error.LinePosition}") : error.Message));
        }

        foreach (var failure in failures)
        {
            evidence.Add(new Evidence("failed_test", failure.Message is null ? failure.Name : $"{failure.Name}: {failure.Message}", source: Relative(baseDirectory, failure.File)));
        }

        if (failed > failures.Count)
        {
            evidence.Add(Evidence.Of("failed_tests_not_listed", Invariant($"and {failed - failures.Count} more")));
        }

        if (problems.Count > 0)
        {
            return GateResult.Fail(string.Join(" ", problems), evidence);
        }

        var skippedNote = skipped > 0 ? Invariant($" ({skipped} skipped)") : string.Empty;
        return GateResult.Pass(Invariant($"All {passed} tests passed{skippedNote} in {files.Count} result file{(files.Count == 1 ? string.Empty : "s")}."), evidence);
    }

    private static string Relative(string baseDirectory, string path)
    {
        var relative = Path.GetRelativePath(baseDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative.Replace('\\', '/');
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
