using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The entry point every ReleaseKit package builds on.</summary>
public interface IReleaseKitBuilder
{
    /// <summary>Gets the service collection.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Registers release gates (returned by <see cref="ReleaseGatesBuilderExtensions.AddGates(IReleaseKitBuilder)"/>).</summary>
public interface IReleaseGatesBuilder
{
    /// <summary>Gets the service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>Adds a registration.</summary>
    /// <param name="registration">The registration.</param>
    /// <returns>This builder.</returns>
    IReleaseGatesBuilder Add(ReleaseGateRegistration registration);
}

/// <summary>Extension methods that add ReleaseKit to an <see cref="IServiceCollection"/>.</summary>
public static class ReleaseKitServiceCollectionExtensions
{
    /// <summary>Adds ReleaseKit's core services (a <see cref="TimeProvider"/> if none is registered) and returns a builder for its packages.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The builder.</returns>
    public static IReleaseKitBuilder AddReleaseKit(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        return new ReleaseKitBuilder(services);
    }

    private sealed class ReleaseKitBuilder(IServiceCollection services) : IReleaseKitBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>Extension methods that register release gates.</summary>
public static class ReleaseGatesBuilderExtensions
{
    /// <summary>Adds the gate runner (once, however often this is called) and returns a builder for gates.</summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddGates(this IReleaseKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IReleaseGateRunner, ReleaseGateRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseGatesOptions>, ReleaseGatesOptionsValidator>());
        services.AddOptions<ReleaseGatesOptions>().ValidateOnStart();
        return new ReleaseGatesBuilder(services);
    }

    /// <summary>Adds the gate runner and configures gates.</summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="configure">Adds gates.</param>
    /// <returns>The ReleaseKit builder.</returns>
    public static IReleaseKitBuilder AddGates(this IReleaseKitBuilder builder, Action<IReleaseGatesBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(builder.AddGates());
        return builder;
    }

    /// <summary>Adds a gate of type <typeparamref name="TGate"/>, created from the run's scope for every evaluation (constructor dependencies are resolved).</summary>
    /// <typeparam name="TGate">The gate type.</typeparam>
    /// <param name="builder">The gates builder.</param>
    /// <param name="name">The gate's unique name.</param>
    /// <param name="configure">Configures stages, tags, timeout, severity, dry run and retries.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddGate<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TGate>(this IReleaseGatesBuilder builder, string name, Action<ReleaseGateRegistration>? configure = null)
        where TGate : class, IReleaseGate
    {
        ArgumentNullException.ThrowIfNull(builder);
        var factory = ActivatorUtilities.CreateFactory<TGate>([]);
        return builder.AddGate(name, sp => sp.GetService<TGate>() ?? factory(sp, null), configure);
    }

    /// <summary>Adds a gate created by a factory.</summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="name">The gate's unique name.</param>
    /// <param name="factory">Creates the gate from the run's scope.</param>
    /// <param name="configure">Configures the registration.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddGate(this IReleaseGatesBuilder builder, string name, Func<IServiceProvider, IReleaseGate> factory, Action<ReleaseGateRegistration>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var registration = new ReleaseGateRegistration(name, factory);
        configure?.Invoke(registration);
        return builder.Add(registration);
    }

    /// <summary>Adds a gate from a delegate.</summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="name">The gate's unique name.</param>
    /// <param name="evaluate">Evaluates the gate.</param>
    /// <param name="configure">Configures the registration.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddGate(this IReleaseGatesBuilder builder, string name, Func<GateContext, CancellationToken, ValueTask<GateResult>> evaluate, Action<ReleaseGateRegistration>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        var gate = new DelegateGate(evaluate);
        return builder.AddGate(name, _ => gate, configure);
    }

    /// <summary>Adds a synchronous gate from a delegate.</summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="name">The gate's unique name.</param>
    /// <param name="evaluate">Evaluates the gate.</param>
    /// <param name="configure">Configures the registration.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddGate(this IReleaseGatesBuilder builder, string name, Func<GateContext, GateResult> evaluate, Action<ReleaseGateRegistration>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        return builder.AddGate(name, (context, _) => ValueTask.FromResult(evaluate(context)), configure);
    }

    private sealed class ReleaseGatesBuilder(IServiceCollection services) : IReleaseGatesBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IReleaseGatesBuilder Add(ReleaseGateRegistration registration)
        {
            ArgumentNullException.ThrowIfNull(registration);
            Services.Configure<ReleaseGatesOptions>(options => options.Registrations.Add(registration));
            return this;
        }
    }

    private sealed class DelegateGate(Func<GateContext, CancellationToken, ValueTask<GateResult>> evaluate) : IReleaseGate
    {
        public ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken) => evaluate(context, cancellationToken);
    }
}
