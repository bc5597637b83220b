using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the release window gate.</summary>
public static class ReleaseWindowGateBuilderExtensions
{
    /// <summary>
    /// Adds the release window gate (stage Promotion): the current moment, in the configured time zone, must be inside
    /// an allow window (when any are configured) and outside every deny window. Options are validated at startup.
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="configure">Configures the calendar, the windows and any override.</param>
    /// <param name="name">The gate's name; also the name of its <see cref="ReleaseWindowOptions"/>.</param>
    /// <param name="registration">Configures the registration (stages, tags, severity...).</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddReleaseWindowGate(this IReleaseGatesBuilder builder, Action<ReleaseWindowOptions> configure, string name = "release-window", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<ReleaseWindowOptions>(name).Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseWindowOptions>, ReleaseWindowOptionsValidator>());
        return builder.AddGate<ReleaseWindowGate>(name, r =>
        {
            r.InStages(GateStage.Promotion).WithTags("release-window");
            registration?.Invoke(r);
        });
    }
}
