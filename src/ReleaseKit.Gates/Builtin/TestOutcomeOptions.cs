using System.Globalization;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>
/// Options of the test outcomes gate (registered with <c>AddTestOutcomesGate</c>): which JUnit XML and TRX result
/// files to read and the bounds the results must meet. Validated at startup.
/// </summary>
public sealed class TestOutcomeOptions
{
    /// <summary>
    /// Gets the glob patterns of the result files, relative to <see cref="BaseDirectory"/> (rooted patterns are used as
    /// they are): <c>*</c> matches within a path segment, <c>?</c> one character, <c>**</c> any number of directories.
    /// For example <c>TestResults/**/*.trx</c> or <c>**/junit*.xml</c>. At least one is required.
    /// </summary>
    public IList<string> Patterns { get; } = [];

    /// <summary>Gets or sets the directory relative patterns start from; the process's current directory when <see langword="null"/>.</summary>
    public string? BaseDirectory { get; set; }

    /// <summary>Gets or sets the fewest tests (passed, failed and skipped together) the files must report. Default 1: an empty run fails.</summary>
    public int MinimumTests { get; set; } = 1;

    /// <summary>Gets or sets the largest share of skipped tests allowed, from 0 to 1. Default 1 (no bound).</summary>
    public double MaxSkippedRatio { get; set; } = 1;
}

/// <summary>Validates <see cref="TestOutcomeOptions"/> at startup, naming the option and the allowed values.</summary>
internal sealed class TestOutcomeOptionsValidator : IValidateOptions<TestOutcomeOptions>
{
    public ValidateOptionsResult Validate(string? name, TestOutcomeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var gate = $"Test outcomes gate '{name}'";
        var failures = new List<string>();
        if (options.Patterns.Count == 0)
        {
            failures.Add($"{gate}: Patterns is empty; add at least one glob of JUnit XML or TRX files, for example 'TestResults/**/*.trx'.");
        }

        for (var i = 0; i < options.Patterns.Count; i++)
        {
            if (FileGlob.Validate(options.Patterns[i]) is { } problem)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{gate}: Patterns[{i}] is invalid: {problem}. Patterns use '*', '?' and '**' with '/' between segments."));
            }
        }

        if (options.BaseDirectory is not null && (string.IsNullOrWhiteSpace(options.BaseDirectory) || options.BaseDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0))
        {
            failures.Add($"{gate}: BaseDirectory '{options.BaseDirectory}' is not a valid directory path; set a path or leave it null for the current directory.");
        }

        if (options.MinimumTests < 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{gate}: MinimumTests is {options.MinimumTests}; it must be 0 or more."));
        }

        if (double.IsNaN(options.MaxSkippedRatio) || options.MaxSkippedRatio is < 0 or > 1)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{gate}: MaxSkippedRatio is {options.MaxSkippedRatio}; allowed values are 0 to 1 (0.1 allows 10% skipped tests)."));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
