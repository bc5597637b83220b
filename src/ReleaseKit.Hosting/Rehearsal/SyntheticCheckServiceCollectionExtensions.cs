using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Hosting;
using ReleaseKit.Hosting.Rehearsal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the application's synthetic checks, which <c>releasekit rehearse</c> runs on a copy of the database.</summary>
public static class SyntheticCheckServiceCollectionExtensions
{
    /// <summary>
    /// Adds a synthetic check as a delegate. <c>releasekit rehearse</c> runs it after applying the pending migrations and
    /// after re-applying them (<see cref="SyntheticExpectations.Current"/>), and after rolling them back
    /// (<see cref="SyntheticExpectations.Previous"/>).
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="name">The check's unique name (case-insensitive).</param>
    /// <param name="check">The check.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">A check with this name is already registered.</exception>
    /// <example>
    /// <code>
    /// releaseKit.AddSyntheticCheck("invoice-totals", async (ctx, ct) =>
    ///     ctx.Expectations == SyntheticExpectations.Previous ? await CheckTotalsAsync(ctx.DataSource, ct) : GateResult.Pass());
    /// </code>
    /// </example>
    public static IReleaseKitBuilder AddSyntheticCheck(this IReleaseKitBuilder builder, string name, Func<SyntheticCheckContext, CancellationToken, ValueTask<GateResult>> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var instance = new DelegateSyntheticCheck(check);
        return Add(builder, name, _ => instance, ownsInstance: false);
    }

    /// <summary>
    /// Adds a synthetic check class. Each run creates it in a new scope of the rehearsal's services (where
    /// <see cref="System.Data.Common.DbDataSource"/> is the copy) and disposes it (<see cref="IDisposable"/> or
    /// <see cref="IAsyncDisposable"/>) and the scope after the run.
    /// </summary>
    /// <typeparam name="TCheck">The check's type.</typeparam>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="name">The check's unique name (case-insensitive).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">A check with this name is already registered.</exception>
    public static IReleaseKitBuilder AddSyntheticCheck<TCheck>(this IReleaseKitBuilder builder, string name)
        where TCheck : class, ISyntheticCheck =>
        Add(builder, name, sp => ActivatorUtilities.CreateInstance<TCheck>(sp), ownsInstance: true);

    /// <summary>Configures <c>releasekit rehearse</c> (validated at startup). <c>AddSyntheticCheck</c> calls it; calling it again adds configuration.</summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static IReleaseKitBuilder AddRehearsal(this IReleaseKitBuilder builder, Action<ReleaseKitRehearsalOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<ReleaseKitRehearsalOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReleaseKitRehearsalOptions>, ReleaseKitRehearsalOptionsValidator>());

        // The rehearsal rebuilds the application's services on the copy (FluentMigrator's runner and DbDataSource pointed at it).
        if (!services.Any(d => d.ServiceType == typeof(ApplicationServices)))
        {
            services.AddSingleton(new ApplicationServices(services));
        }

        return builder;
    }

    private static IReleaseKitBuilder Add(IReleaseKitBuilder builder, string name, Func<IServiceProvider, ISyntheticCheck> factory, bool ownsInstance)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var existing = builder.Services
            .Where(d => d.ServiceType == typeof(SyntheticCheckRegistration) && !d.IsKeyedService)
            .Select(d => d.ImplementationInstance)
            .OfType<SyntheticCheckRegistration>()
            .FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
        if (existing is not null)
        {
            throw new ArgumentException($"A synthetic check named '{existing.Name}' is already registered; synthetic check names must be unique (case-insensitive). Rename '{name}'.", nameof(name));
        }

        builder.AddRehearsal();
        builder.Services.AddSingleton(new SyntheticCheckRegistration(name, factory, ownsInstance));
        return builder;
    }
}
