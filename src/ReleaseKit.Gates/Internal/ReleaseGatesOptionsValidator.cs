using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates.Internal;

/// <summary>Fails startup when a gate registration is invalid, naming the gate and the allowed values.</summary>
internal sealed partial class ReleaseGatesOptionsValidator : IValidateOptions<ReleaseGatesOptions>
{
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, ReleaseGatesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var registration in options.Registrations)
        {
            var gate = $"Gate '{registration.Name}'";
            if (!NameRegex().IsMatch(registration.Name))
            {
                failures.Add($"{gate}: the name must be 1-100 letters, digits, '.', '-' or '_', starting with a letter or digit.");
            }

            if (!names.Add(registration.Name))
            {
                failures.Add($"{gate}: the name is registered more than once (names are case-insensitive).");
            }

            if (registration.Timeout <= TimeSpan.Zero || registration.Timeout > MaxTimeout)
            {
                failures.Add($"{gate}: Timeout is {registration.Timeout}; it must be greater than zero and at most {MaxTimeout}.");
            }

            if (registration.TimeoutVerdict is not (Verdict.Fail or Verdict.Inconclusive))
            {
                failures.Add($"{gate}: TimeoutVerdict is {registration.TimeoutVerdict}; allowed values are Fail and Inconclusive (a timeout never passes).");
            }

            if (!Enum.IsDefined(registration.Severity))
            {
                failures.Add($"{gate}: Severity is {(int)registration.Severity}; allowed values are Blocking and Advisory.");
            }

            foreach (var stage in registration.Stages.Where(s => !Enum.IsDefined(s)))
            {
                failures.Add($"{gate}: stage {(int)stage} is unknown; allowed values are Startup, Promotion and PostDeploy.");
            }

            if (registration.IsTransient && (registration.RetryAttempts is < 1 or > 10))
            {
                failures.Add($"{gate}: RetryAttempts is {registration.RetryAttempts}; a transient gate allows 1 to 10.");
            }

            if (registration.IsTransient && (registration.RetryDelay < TimeSpan.Zero || registration.RetryDelay > TimeSpan.FromMinutes(5)))
            {
                failures.Add($"{gate}: RetryDelay is {registration.RetryDelay}; allowed is 0 to 5 minutes.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
