using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Hosting.Rehearsal;

/// <summary>A registered synthetic check.</summary>
/// <param name="Name">The check's name.</param>
/// <param name="Factory">Creates the check from a scope of the rehearsal's services, for one run.</param>
/// <param name="OwnsInstance">Whether each run creates its own instance, which the rehearsal disposes after the run.</param>
internal sealed record SyntheticCheckRegistration(string Name, Func<IServiceProvider, ISyntheticCheck> Factory, bool OwnsInstance);

/// <summary>The application's service collection, kept so the rehearsal can rebuild the services on the database copy.</summary>
internal sealed class ApplicationServices(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;
}

internal sealed class DelegateSyntheticCheck(Func<SyntheticCheckContext, CancellationToken, ValueTask<GateResult>> check) : ISyntheticCheck
{
    public ValueTask<GateResult> RunAsync(SyntheticCheckContext context, CancellationToken cancellationToken) => check(context, cancellationToken);
}

/// <summary>Validates <see cref="ReleaseKitRehearsalOptions"/>.</summary>
internal sealed class ReleaseKitRehearsalOptionsValidator : IValidateOptions<ReleaseKitRehearsalOptions>
{
    public ValidateOptionsResult Validate(string? name, ReleaseKitRehearsalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>(2);
        if (string.IsNullOrWhiteSpace(options.MaintenanceDatabase))
        {
            failures.Add("ReleaseKitRehearsalOptions.MaintenanceDatabase is empty: set it to a PostgreSQL database the copy can be created from (default 'postgres').");
        }

        if (options.CheckTimeout <= TimeSpan.Zero)
        {
            failures.Add($"ReleaseKitRehearsalOptions.CheckTimeout is {options.CheckTimeout}; it must be positive (for example 00:01:00).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
