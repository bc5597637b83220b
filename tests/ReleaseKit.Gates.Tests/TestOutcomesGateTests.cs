using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class TestOutcomesGateTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly ReleaseManifest Manifest = new() { ReleaseId = "run-42", Version = "2026.11.3" };

    private async Task<GateResult> RunAsync(Action<TestOutcomeOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddReleaseKit().AddGates(g => g.AddTestOutcomesGate(o =>
        {
            o.BaseDirectory = _temp.Path;
            configure(o);
        }));
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var report = await provider.GetRequiredService<IReleaseGateRunner>()
            .RunAsync(new GateRunRequest { Manifest = Manifest, EnvironmentName = "production" }, TestContext.Current.CancellationToken);
        return Assert.Single(report.Entries).Result;
    }

    private static void AddPatterns(TestOutcomeOptions options, params string[] patterns)
    {
        foreach (var pattern in patterns)
        {
            options.Patterns.Add(pattern);
        }
    }

    private static IEnumerable<string> Values(GateResult result, string name) =>
        result.Evidence.Where(e => e.Name == name).Select(e => e.Observed!);

    private static string Value(GateResult result, string name) => Assert.Single(Values(result, name));

    // ---- JUnit shapes written by several tools ----

    internal const string Surefire = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.acme.InvoiceTest" time="0.52" tests="4" errors="1" skipped="1" failures="1">
          <properties>
            <property name="java.version" value="21"/>
          </properties>
          <testcase name="totals" classname="com.acme.InvoiceTest" time="0.01"/>
          <testcase name="rounding" classname="com.acme.InvoiceTest" time="0.02">
            <failure message="expected: &lt;10.00&gt; but was: &lt;10.01&gt;" type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected
            at com.acme.InvoiceTest.rounding(InvoiceTest.java:31)</failure>
            <system-out><![CDATA[rounding...]]></system-out>
          </testcase>
          <testcase name="export" classname="com.acme.InvoiceTest" time="0.3">
            <error message="Connection refused" type="java.net.ConnectException"/>
          </testcase>
          <testcase name="vat" classname="com.acme.InvoiceTest" time="0">
            <skipped message="not on this platform"/>
          </testcase>
        </testsuite>
        """;

    internal const string Pytest = """
        <?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" skipped="1" tests="3" time="0.04" timestamp="2026-11-27T10:00:00.000000" hostname="ci"><testcase classname="tests.test_time" name="test_entry" time="0.001" /><testcase classname="tests.test_time" name="test_week" time="0.001" /><testcase classname="tests.test_time" name="test_leap" time="0.000"><skipped type="pytest.skip" message="leap years later">tests/test_time.py:12: leap years later</skipped></testcase></testsuite></testsuites>
        """;

    internal const string Jest = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites name="jest tests" tests="2" failures="1" errors="0" time="1.2">
          <testsuite name="approvals" errors="0" failures="1" skipped="0" timestamp="2026-11-27T10:00:00" time="1.1" tests="2">
            <testcase classname="approvals approves once" name="approvals approves once" time="0.01">
            </testcase>
            <testcase classname="approvals rejects self approval" name="approvals rejects self approval" time="0.02">
              <failure>Error: expect(received).toBe(expected)

        Expected: false
        Received: true</failure>
            </testcase>
          </testsuite>
        </testsuites>
        """;

    internal const string GoJUnitReport = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites tests="2" failures="0">
        	<testsuite name="example.com/ledger" tests="2" failures="0" errors="0" id="0" hostname="ci" time="0.010" timestamp="2026-11-27T10:00:00Z">
        		<properties>
        			<property name="go.version" value="go1.23.0"></property>
        		</properties>
        		<testcase name="TestPost" classname="example.com/ledger" time="0.000"></testcase>
        		<testcase name="TestReverse" classname="example.com/ledger" time="0.000"></testcase>
        	</testsuite>
        </testsuites>
        """;

    internal const string NestedPhpUnit = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites>
          <testsuite name="" tests="3" assertions="3" errors="0" failures="1" skipped="0" time="0.01">
            <testsuite name="Unit" tests="3" assertions="3" errors="0" failures="1" skipped="0" time="0.01">
              <testsuite name="Tests\CalendarTest" file="tests/CalendarTest.php" tests="3" assertions="3" errors="0" failures="1" skipped="0" time="0.01">
                <testcase name="testMonthEnd" class="Tests\CalendarTest" classname="Tests.CalendarTest" file="tests/CalendarTest.php" line="9" assertions="1" time="0.001"/>
                <testsuite name="Tests\CalendarTest::testHoliday" tests="2" assertions="2" errors="0" failures="1" skipped="0" time="0.002">
                  <testcase name="testHoliday with data set #0" classname="Tests.CalendarTest" assertions="1" time="0.001"/>
                  <testcase name="testHoliday with data set #1" classname="Tests.CalendarTest" assertions="1" time="0.001">
                    <failure type="PHPUnit\Framework\ExpectationFailedException">Failed asserting that false is true.</failure>
                  </testcase>
                </testsuite>
              </testsuite>
            </testsuite>
          </testsuite>
        </testsuites>
        """;

    internal const string NoTotals = """
        <testsuite name="bare">
          <testcase name="one"/>
          <testcase name="two"><failure/></testcase>
          <testcase name="three"><skipped/></testcase>
        </testsuite>
        """;

    // ---- TRX ----

    private static string Trx(string results, string runOutcome = "Completed") => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <TestRun id="0e4cf343-22d9-4faa-b5e9-68eaa02294c0" name="ci" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
          <Times creation="2026-11-27T16:34:21.4177886Z" start="2026-11-27T16:34:21.4177886Z" finish="2026-11-27T16:34:21.9511015Z" />
          <Results>
        {results}
          </Results>
          <TestDefinitions />
          <ResultSummary outcome="{runOutcome}">
            <Counters total="0" executed="0" passed="0" failed="0" error="0" timeout="0" aborted="0" inconclusive="0" />
          </ResultSummary>
        </TestRun>
        """;

    private static string Result(string name, string outcome, string? message = null) => message is null
        ? $"""    <UnitTestResult executionId="{Guid.NewGuid()}" testId="{Guid.NewGuid()}" testName="{name}" computerName="ci" duration="00:00:00.01" outcome="{outcome}" testListId="8C84FA94-04C1-424b-9868-57A2D4851A1D" />"""
        : $"""
            <UnitTestResult executionId="{Guid.NewGuid()}" testId="{Guid.NewGuid()}" testName="{name}" computerName="ci" outcome="{outcome}">
              <Output>
                <ErrorInfo>
                  <Message>{message}</Message>
                  <StackTrace>   at Billing.Tests.{name}() in /src/Tests.cs:line 12</StackTrace>
                </ErrorInfo>
              </Output>
            </UnitTestResult>
        """;

    [Fact]
    public async Task All_passing_results_from_several_tools_pass_with_totals_and_files_as_evidence()
    {
        _temp.Write("go/report.xml", GoJUnitReport);
        _temp.Write("py/junit.xml", Pytest);
        _temp.Write("TestResults/run.trx", Trx(Result("Billing.Tests.Posts", "Passed") + "\n" + Result("Billing.Tests.Later", "NotExecuted")));

        var result = await RunAsync(o => AddPatterns(o, "**/*.xml", "TestResults/*.trx"));

        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Equal("7", Value(result, "total"));
        Assert.Equal("5", Value(result, "passed"));
        Assert.Equal("0", Value(result, "failed"));
        Assert.Equal("2", Value(result, "skipped"));
        Assert.Equal(["TestResults/run.trx", "go/report.xml", "py/junit.xml"], Values(result, "file"));
        Assert.Contains("2 skipped", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Surefire_failures_and_errors_fail_and_name_the_tests_with_their_messages()
    {
        _temp.Write("target/surefire-reports/TEST-com.acme.InvoiceTest.xml", Surefire);

        var result = await RunAsync(o => o.Patterns.Add("target/surefire-reports/TEST-*.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal(["com.acme.InvoiceTest.rounding: expected: <10.00> but was: <10.01>", "com.acme.InvoiceTest.export: Connection refused"], Values(result, "failed_test"));
        Assert.Equal(("4", "1", "2", "1"), (Value(result, "total"), Value(result, "passed"), Value(result, "failed"), Value(result, "skipped")));
        Assert.Contains("2 of 4 tests failed", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_jest_failure_without_a_message_attribute_takes_the_first_line_of_its_text()
    {
        _temp.Write("junit.xml", Jest);

        var result = await RunAsync(o => o.Patterns.Add("junit.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("approvals rejects self approval: Error: expect(received).toBe(expected)", Value(result, "failed_test"));
    }

    [Fact]
    public async Task Nested_suites_count_each_test_case_once()
    {
        _temp.Write("phpunit.xml", NestedPhpUnit);

        var result = await RunAsync(o => o.Patterns.Add("*.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("3", Value(result, "total"));
        Assert.Equal("1", Value(result, "failed"));
        Assert.Equal("Tests.CalendarTest.testHoliday with data set #1: Failed asserting that false is true.", Value(result, "failed_test"));
    }

    [Fact]
    public async Task Missing_total_attributes_are_replaced_by_counting_the_test_cases()
    {
        _temp.Write("bare.xml", NoTotals);

        var result = await RunAsync(o => o.Patterns.Add("bare.xml"));

        Assert.Equal(("3", "1", "1", "1"), (Value(result, "total"), Value(result, "passed"), Value(result, "failed"), Value(result, "skipped")));
        Assert.Equal("two", Value(result, "failed_test"));
    }

    [Fact]
    public async Task A_suite_that_errored_before_its_tests_ran_fails()
    {
        _temp.Write("collect.xml", """
            <testsuites>
              <testsuite name="ok" tests="1"><testcase name="fine"/></testsuite>
              <testsuite name="broken" tests="0" errors="1"><error message="ImportError: no module named ledger"/></testsuite>
              <testsuite name="liar" tests="2" failures="2"><testcase name="a"/><testcase name="b"/></testsuite>
            </testsuites>
            """);

        var result = await RunAsync(o => o.Patterns.Add("collect.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        var failed = Values(result, "failed_test").ToList();
        Assert.Contains("broken (suite error): ImportError: no module named ledger", failed);
        Assert.Equal(2, failed.Count(f => f.StartsWith("liar (suite)", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Failed", true)]
    [InlineData("Error", true)]
    [InlineData("Timeout", true)]
    [InlineData("Aborted", true)]
    [InlineData("PassedButRunAborted", true)]
    [InlineData("SomethingNew", true)]
    [InlineData("Passed", false)]
    [InlineData("NotExecuted", false)]
    [InlineData("Inconclusive", false)]
    public async Task Trx_outcomes_map_to_pass_or_fail(string outcome, bool fails)
    {
        _temp.Write("r.trx", Trx(Result("Billing.Tests.Posts", "Passed") + "\n" + Result("Billing.Tests.Exports", outcome, outcome == "Passed" ? null : "boom")));

        var result = await RunAsync(o => o.Patterns.Add("*.trx"));

        Assert.Equal(fails ? Verdict.Fail : Verdict.Pass, result.Verdict);
        if (fails)
        {
            var failed = Value(result, "failed_test");
            Assert.StartsWith("Billing.Tests.Exports: ", failed, StringComparison.Ordinal);
            Assert.EndsWith("boom", failed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_trx_run_that_aborted_without_a_failed_test_fails()
    {
        _temp.Write("r.trx", Trx(Result("Billing.Tests.Posts", "Passed"), runOutcome: "Aborted"));

        var result = await RunAsync(o => o.Patterns.Add("*.trx"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("(test run): the run's outcome is 'Aborted'", Value(result, "failed_test"));
    }

    [Fact]
    public async Task Inner_results_of_a_data_driven_trx_test_are_not_counted_twice()
    {
        _temp.Write("r.trx", Trx("""
                <UnitTestResult testName="Rows" outcome="Failed" resultType="DataDrivenTest">
                  <InnerResults>
                    <UnitTestResult testName="Rows (1)" outcome="Passed" resultType="DataDrivenDataRow" />
                    <UnitTestResult testName="Rows (2)" outcome="Failed" resultType="DataDrivenDataRow">
                      <Output><ErrorInfo><Message>row 2 is wrong</Message></ErrorInfo></Output>
                    </UnitTestResult>
                  </InnerResults>
                </UnitTestResult>
            """));

        var result = await RunAsync(o => o.Patterns.Add("r.trx"));

        Assert.Equal("1", Value(result, "total"));
        Assert.Equal("Rows: row 2 is wrong", Value(result, "failed_test"));
    }

    [Fact]
    public async Task No_matching_file_fails_closed_with_the_patterns_as_evidence()
    {
        _temp.Write("other/results.json", "{}");

        var result = await RunAsync(o => AddPatterns(o, "**/*.trx", "junit/*.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("No test result files matched '**/*.trx', 'junit/*.xml'", result.Reason, StringComparison.Ordinal);
        Assert.Equal("**/*.trx, junit/*.xml", Value(result, "patterns"));
    }

    [Fact]
    public async Task A_truncated_file_fails_naming_the_file_and_the_line()
    {
        _temp.Write("good.xml", GoJUnitReport);
        var truncated = Surefire[..Surefire.IndexOf("<testcase name=\"export\"", StringComparison.Ordinal)];
        _temp.Write("cut/TEST-cut.xml", truncated);

        var result = await RunAsync(o => o.Patterns.Add("**/*.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("cut/TEST-cut.xml", Value(result, "invalid_file"));
        var where = Assert.Single(result.Evidence, e => e.Name == "invalid_file").Source;
        Assert.Matches(@"^line \d+, position \d+$", where);
        Assert.Contains("TEST-cut.xml' is not well-formed XML at line", result.Reason, StringComparison.Ordinal);
        Assert.Equal("good.xml", Assert.Single(Values(result, "file")));
    }

    [Fact]
    public async Task A_file_that_is_neither_junit_nor_trx_fails_naming_its_root_element()
    {
        _temp.Write("results.xml", "<coverage line-rate=\"0.9\"/>");

        var result = await RunAsync(o => o.Patterns.Add("results.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("root element is <coverage>", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_type_declaration_is_refused_so_entities_cannot_expand()
    {
        _temp.Write("evil.xml", """
            <?xml version="1.0"?>
            <!DOCTYPE testsuite [<!ENTITY x SYSTEM "file:///etc/passwd">]>
            <testsuite name="s"><testcase name="&x;"/></testsuite>
            """);

        var result = await RunAsync(o => o.Patterns.Add("evil.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("evil.xml", Value(result, "invalid_file"));
        Assert.Contains("DTD", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fewer_tests_than_the_minimum_fail()
    {
        _temp.Write("go.xml", GoJUnitReport);

        var result = await RunAsync(o =>
        {
            o.Patterns.Add("go.xml");
            o.MinimumTests = 3;
        });

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("Only 2 tests were reported; at least 3 are required (MinimumTests)", result.Reason, StringComparison.Ordinal);
        var total = Assert.Single(result.Evidence, e => e.Name == "total");
        Assert.Equal("3", total.Threshold);
    }

    [Fact]
    public async Task A_file_with_no_tests_fails_by_default()
    {
        _temp.Write("empty.xml", "<testsuites/>");

        var result = await RunAsync(o => o.Patterns.Add("empty.xml"));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("Only 0 tests", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.33, Verdict.Fail)]
    [InlineData(0.34, Verdict.Pass)]
    public async Task A_skipped_share_above_the_bound_fails(double maxSkippedRatio, Verdict expected)
    {
        _temp.Write("py.xml", Pytest); // 1 of 3 skipped

        var result = await RunAsync(o =>
        {
            o.Patterns.Add("py.xml");
            o.MaxSkippedRatio = maxSkippedRatio;
        });

        Assert.Equal(expected, result.Verdict);
        Assert.Equal("0.3333", Value(result, "skipped_ratio"));
    }

    [Fact]
    public async Task Evidence_lists_the_first_twenty_failed_tests_then_how_many_more()
    {
        var cases = string.Join("\n", Enumerable.Range(1, 45).Select(i => $"<testcase name=\"t{i:D2}\"><failure message=\"no\"/></testcase>"));
        _temp.Write("a.xml", $"<testsuite name=\"a\">{cases}</testsuite>");
        _temp.Write("b.xml", "<testsuite name=\"b\"><testcase name=\"late\"><error/></testcase></testsuite>");

        var result = await RunAsync(o => o.Patterns.Add("*.xml"));

        var listed = Values(result, "failed_test").ToList();
        Assert.Equal(20, listed.Count);
        Assert.Equal("t01: no", listed[0]);
        Assert.Equal("t20: no", listed[^1]);
        Assert.Equal("and 26 more", Value(result, "failed_tests_not_listed"));
        Assert.Equal("46", Value(result, "failed"));
    }

    [Theory]
    [InlineData(-1, 0.5, "MinimumTests is -1")]
    [InlineData(1, 1.5, "MaxSkippedRatio is 1.5; allowed values are 0 to 1")]
    [InlineData(1, double.NaN, "MaxSkippedRatio is NaN")]
    public async Task Invalid_options_fail_at_startup_naming_the_option(int minimumTests, double maxSkippedRatio, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunAsync(o =>
        {
            o.Patterns.Add("*.xml");
            o.MinimumTests = minimumTests;
            o.MaxSkippedRatio = maxSkippedRatio;
        }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("Test outcomes gate 'test-outcomes'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_patterns_fail_at_startup()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunAsync(_ => { }));

        Assert.Contains("Patterns is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_base_directory_fails()
    {
        var result = await RunAsync(o =>
        {
            o.Patterns.Add("*.xml");
            o.BaseDirectory = Path.Combine(_temp.Path, "nope");
        });

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("does not exist", result.Reason, StringComparison.Ordinal);
    }
}
