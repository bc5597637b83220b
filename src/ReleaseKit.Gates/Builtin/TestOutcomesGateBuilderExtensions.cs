using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the built-in test outcomes gate.</summary>
public static class TestOutcomesGateBuilderExtensions
{
    /// <summary>
    /// Adds a gate that reads JUnit XML and TRX result files and fails on any failed or errored test, on fewer tests
    /// than <see cref="TestOutcomeOptions.MinimumTests"/>, on a skipped share above
    /// <see cref="TestOutcomeOptions.MaxSkippedRatio"/>, when no file matches, and when a file cannot be read.
    /// The options are validated at startup.
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="configure">Sets the patterns and bounds.</param>
    /// <param name="name">The gate's unique name; its options are the named options of that name.</param>
    /// <param name="registration">Configures stages, tags, timeout and severity.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddTestOutcomesGate(this IReleaseGatesBuilder builder, Action<TestOutcomeOptions> configure, string name = "test-outcomes", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TestOutcomeOptions>, TestOutcomeOptionsValidator>());
        builder.Services.AddOptions<TestOutcomeOptions>(name).Configure(configure).ValidateOnStart();
        return builder.AddGate<TestOutcomesGate>(name, registration);
    }
}
