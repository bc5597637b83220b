using System.Globalization;
using System.Text;
using System.Xml;

namespace ReleaseKit.Gates;

/// <summary>How one test ended, as the test outcomes gate counts it.</summary>
internal enum TestStatus
{
    Passed = 0,
    Failed = 1,
    Skipped = 2,
}

/// <summary>A failed (or errored, timed-out, aborted) test.</summary>
/// <param name="Name">The test's full name.</param>
/// <param name="Message">The first line of its failure message, if any.</param>
/// <param name="File">The result file it was read from.</param>
internal sealed record FailedTest(string Name, string? Message, string File);

/// <summary>What one result file says.</summary>
internal sealed class TestOutcomeFile
{
    public TestOutcomeFile(string path, string format)
    {
        Path = path;
        Format = format;
    }

    public string Path { get; }

    /// <summary>Gets <c>junit</c> or <c>trx</c>.</summary>
    public string Format { get; }

    public int Total => Passed + Failed + Skipped;

    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public int Skipped { get; private set; }

    /// <summary>Gets the failed tests, at most the number asked for when parsing (<see cref="Failed"/> counts them all).</summary>
    public List<FailedTest> Failures { get; } = [];

    internal int MaxFailures { get; init; } = int.MaxValue;

    internal void Add(TestStatus status, string name, string? message)
    {
        switch (status)
        {
            case TestStatus.Passed:
                Passed++;
                break;
            case TestStatus.Skipped:
                Skipped++;
                break;
            default:
                Failed++;
                if (Failures.Count < MaxFailures)
                {
                    Failures.Add(new FailedTest(name, message, Path));
                }

                break;
        }
    }
}

/// <summary>A result file that cannot be read: not XML, truncated, or neither JUnit nor TRX.</summary>
internal sealed class TestOutcomeFileException : Exception
{
    public TestOutcomeFileException()
    {
    }

    public TestOutcomeFileException(string message)
        : base(message)
    {
    }

    public TestOutcomeFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int LineNumber { get; init; }

    public int LinePosition { get; init; }
}

/// <summary>
/// Reads JUnit XML (a <c>&lt;testsuites&gt;</c> or a single <c>&lt;testsuite&gt;</c> root, nested suites) and
/// TRX (Visual Studio, <c>dotnet test --report-trx</c>) result files, streaming, with DTDs prohibited and no
/// external resolution.
/// </summary>
internal static class TestOutcomeParser
{
    private const int MaxMessageLength = 300;

    private static readonly XmlReaderSettings Settings = new()
    {
        Async = true,
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        MaxCharactersFromEntities = 1024,
        CloseInput = true,
    };

    /// <summary>Maps a TRX <c>outcome</c> attribute (case-insensitive) to a status; unknown or missing outcomes are failures (fail closed).</summary>
    /// <param name="outcome">The attribute's value.</param>
    /// <returns>The status.</returns>
    public static TestStatus MapTrxOutcome(string? outcome) => outcome?.Trim().ToUpperInvariant() switch
    {
        "PASSED" or "COMPLETED" or "WARNING" => TestStatus.Passed,
        "NOTEXECUTED" or "INCONCLUSIVE" => TestStatus.Skipped,

        // Failed, Error, Timeout, Aborted, PassedButRunAborted, NotRunnable, Disconnected, InProgress, Pending,
        // and anything this version does not know.
        _ => TestStatus.Failed,
    };

    /// <summary>Whether a TRX run outcome (<c>ResultSummary/@outcome</c>) says the run itself completed.</summary>
    /// <param name="outcome">The attribute's value.</param>
    /// <returns><see langword="true"/> for Completed, Passed, Warning, Inconclusive, NotExecuted, or no outcome.</returns>
    public static bool IsCompletedRunOutcome(string? outcome) => outcome?.Trim().ToUpperInvariant() switch
    {
        null or "" or "COMPLETED" or "PASSED" or "WARNING" or "INCONCLUSIVE" or "NOTEXECUTED" => true,
        _ => false,
    };

    /// <summary>Reads one result file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxFailures">How many failed tests to keep by name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>What the file says.</returns>
    /// <exception cref="TestOutcomeFileException">The file is not well-formed XML or is neither JUnit nor TRX.</exception>
    public static async Task<TestOutcomeFile> ParseAsync(string path, int maxFailures, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024, useAsync: true);
        using var reader = XmlReader.Create(stream, Settings);
        try
        {
            if (await reader.MoveToContentAsync().ConfigureAwait(false) != XmlNodeType.Element)
            {
                throw new TestOutcomeFileException($"'{path}' has no root element.");
            }

            return reader.LocalName switch
            {
                "testsuites" or "testsuite" => await ReadJUnitAsync(reader, path, maxFailures, cancellationToken).ConfigureAwait(false),
                "TestRun" => await ReadTrxAsync(reader, path, maxFailures, cancellationToken).ConfigureAwait(false),
                _ => throw new TestOutcomeFileException(
                    $"'{path}' is neither JUnit XML nor TRX: its root element is <{reader.Name}> (expected <testsuites>, <testsuite> or <TestRun>).")
                {
                    LineNumber = LineInfo(reader).Line,
                    LinePosition = LineInfo(reader).Position,
                },
            };
        }
        catch (XmlException ex)
        {
            throw new TestOutcomeFileException($"'{path}' is not well-formed XML at line {ex.LineNumber}, position {ex.LinePosition}: {ex.Message}", ex)
            {
                LineNumber = ex.LineNumber,
                LinePosition = ex.LinePosition,
            };
        }
    }

    private static async Task<TestOutcomeFile> ReadJUnitAsync(XmlReader reader, string path, int maxFailures, CancellationToken cancellationToken)
    {
        var file = new TestOutcomeFile(path, "junit") { MaxFailures = maxFailures };
        var suites = new Stack<SuiteFrame>();
        CaseFrame? current = null;
        var capture = new MessageCapture();
        var first = true;
        while (first || await reader.ReadAsync().ConfigureAwait(false))
        {
            first = false;
            cancellationToken.ThrowIfCancellationRequested();
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                    var empty = reader.IsEmptyElement;
                    switch (reader.LocalName)
                    {
                        case "testsuite":
                            if (suites.TryPeek(out var parent))
                            {
                                parent.HasChildSuites = true;
                            }

                            var suite = new SuiteFrame(
                                reader.GetAttribute("name") ?? "(unnamed suite)",
                                ReadCount(reader, "failures") + ReadCount(reader, "errors"));
                            suites.Push(suite);
                            if (empty)
                            {
                                EndSuite(file, suites.Pop());
                            }

                            break;
                        case "testcase" when current is null:
                            current = new CaseFrame(CaseName(reader.GetAttribute("classname"), reader.GetAttribute("name")));
                            if (empty)
                            {
                                EndCase(file, suites, ref current);
                            }

                            break;
                        case "failure" or "error" when current is not null:
                            current.Status = TestStatus.Failed;
                            current.Message ??= FirstLine(reader.GetAttribute("message"));
                            if (current.Message is null && !empty)
                            {
                                capture.Start(reader.Depth);
                            }

                            break;
                        case "skipped" when current is not null:
                            if (current.Status != TestStatus.Failed)
                            {
                                current.Status = TestStatus.Skipped;
                            }

                            break;
                        case "failure" or "error" when current is null && suites.Count > 0:
                            // A suite-level error (set-up or collection failed): no test case carries it.
                            var owner = suites.Peek();
                            owner.CountedFailures++;
                            file.Add(TestStatus.Failed, $"{owner.Name} (suite {reader.LocalName})", FirstLine(reader.GetAttribute("message")));
                            break;
                    }

                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA when capture.Active && current is not null && current.Message is null:
                    current.Message = FirstLine(reader.Value);
                    capture.Stop();
                    break;
                case XmlNodeType.EndElement:
                    if (capture.Active && reader.Depth <= capture.Depth)
                    {
                        capture.Stop();
                    }

                    if (reader.LocalName == "testcase" && current is not null)
                    {
                        EndCase(file, suites, ref current);
                    }
                    else if (reader.LocalName == "testsuite" && suites.Count > 0)
                    {
                        EndSuite(file, suites.Pop());
                    }

                    break;
            }
        }

        return file;
    }

    private static void EndCase(TestOutcomeFile file, Stack<SuiteFrame> suites, ref CaseFrame? current)
    {
        var testCase = current!;
        current = null;
        file.Add(testCase.Status, testCase.Name, testCase.Message);
        if (testCase.Status == TestStatus.Failed && suites.TryPeek(out var suite))
        {
            suite.CountedFailures++;
        }
    }

    private static void EndSuite(TestOutcomeFile file, SuiteFrame suite)
    {
        // A leaf suite whose attributes declare more failures and errors than it lists is counted as failing:
        // the listed cases cannot be the whole story, and a check that cannot tell must not pass.
        if (!suite.HasChildSuites && suite.DeclaredFailures > suite.CountedFailures)
        {
            var missing = suite.DeclaredFailures - suite.CountedFailures;
            for (var i = 0; i < missing; i++)
            {
                file.Add(
                    TestStatus.Failed,
                    $"{suite.Name} (suite)",
                    string.Create(CultureInfo.InvariantCulture, $"the suite's attributes declare {suite.DeclaredFailures} failures and errors but it lists {suite.CountedFailures}"));
            }
        }
    }

    private static async Task<TestOutcomeFile> ReadTrxAsync(XmlReader reader, string path, int maxFailures, CancellationToken cancellationToken)
    {
        var file = new TestOutcomeFile(path, "trx") { MaxFailures = maxFailures };
        var resultsDepth = -1;
        string? runOutcome = null;
        ResultFrame? current = null;
        var capture = new MessageCapture();
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                    var empty = reader.IsEmptyElement;
                    if (reader.LocalName == "Results" && reader.Depth == 1)
                    {
                        resultsDepth = empty ? -1 : reader.Depth;
                    }
                    else if (resultsDepth >= 0 && reader.Depth == resultsDepth + 1)
                    {
                        // Direct children of <Results>: UnitTestResult, and the rarer GenericTestResult, ManualTestResult,
                        // TestResultAggregation... Inner results of data-driven tests are nested deeper and not counted twice.
                        current = new ResultFrame(
                            reader.GetAttribute("testName") ?? reader.GetAttribute("testId") ?? "(unnamed test)",
                            reader.GetAttribute("outcome"),
                            reader.Depth);
                        if (empty)
                        {
                            EndResult(file, ref current);
                        }
                    }
                    else if (current is not null && current.Message is null && reader.LocalName == "Message" && !empty)
                    {
                        capture.Start(reader.Depth);
                    }
                    else if (reader.LocalName == "ResultSummary" && reader.Depth == 1)
                    {
                        runOutcome = reader.GetAttribute("outcome");
                    }

                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA when capture.Active && current is not null:
                    current.Message ??= FirstLine(reader.Value);
                    capture.Stop();
                    break;
                case XmlNodeType.EndElement:
                    if (capture.Active && reader.Depth <= capture.Depth)
                    {
                        capture.Stop();
                    }

                    if (current is not null && reader.Depth == current.Depth)
                    {
                        EndResult(file, ref current);
                    }
                    else if (resultsDepth >= 0 && reader.Depth == resultsDepth && reader.LocalName == "Results")
                    {
                        resultsDepth = -1;
                    }

                    break;
            }
        }

        if (!IsCompletedRunOutcome(runOutcome) && file.Failed == 0)
        {
            // The test host crashed or the run was aborted: no single test carries the failure.
            file.Add(TestStatus.Failed, "(test run)", $"the run's outcome is '{runOutcome}'");
        }

        return file;
    }

    private static void EndResult(TestOutcomeFile file, ref ResultFrame? current)
    {
        var result = current!;
        current = null;
        var status = MapTrxOutcome(result.Outcome);
        var message = result.Message;
        if (status == TestStatus.Failed && result.Outcome?.Trim().ToUpperInvariant() is not "FAILED")
        {
            var outcome = result.Outcome is null ? "no outcome" : $"outcome '{result.Outcome}'";
            message = message is null ? outcome : $"{outcome}: {message}";
        }

        file.Add(status, result.Name, message);
    }

    private static string CaseName(string? className, string? name)
    {
        name = string.IsNullOrWhiteSpace(name) ? "(unnamed test)" : name.Trim();
        if (string.IsNullOrWhiteSpace(className))
        {
            return name;
        }

        // Some tools repeat the class in the name (jest-junit writes the same text into both).
        className = className.Trim();
        return name == className || name.StartsWith(className + ".", StringComparison.Ordinal) || name.StartsWith(className + " ", StringComparison.Ordinal)
            ? name
            : $"{className}.{name}";
    }

    private static int ReadCount(XmlReader reader, string attribute) =>
        int.TryParse(reader.GetAttribute(attribute), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static string? FirstLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var span = text.AsSpan().Trim();
        var end = span.IndexOfAny('\r', '\n');
        if (end >= 0)
        {
            span = span[..end].TrimEnd();
        }

        if (span.Length > MaxMessageLength)
        {
            return new StringBuilder(MaxMessageLength + 1).Append(span[..MaxMessageLength]).Append('…').ToString();
        }

        return span.ToString();
    }

    private static (int Line, int Position) LineInfo(XmlReader reader) =>
        reader is IXmlLineInfo info && info.HasLineInfo() ? (info.LineNumber, info.LinePosition) : (0, 0);

    private sealed class SuiteFrame(string name, int declaredFailures)
    {
        public string Name { get; } = name;

        public int DeclaredFailures { get; } = declaredFailures;

        public int CountedFailures { get; set; }

        public bool HasChildSuites { get; set; }
    }

    private sealed class CaseFrame(string name)
    {
        public string Name { get; } = name;

        public TestStatus Status { get; set; } = TestStatus.Passed;

        public string? Message { get; set; }
    }

    private sealed class ResultFrame(string name, string? outcome, int depth)
    {
        public string Name { get; } = name;

        public string? Outcome { get; } = outcome;

        public int Depth { get; } = depth;

        public string? Message { get; set; }
    }

    private sealed class MessageCapture
    {
        public bool Active { get; private set; }

        public int Depth { get; private set; }

        public void Start(int depth)
        {
            Active = true;
            Depth = depth;
        }

        public void Stop() => Active = false;
    }
}
