using System.Data.Common;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;
using ReleaseKit.Reconciliation;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers reconciliation: the posting journal and the <see cref="Reconciler"/>.</summary>
public static class ReconciliationServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="PostingJournal"/> on the given database and a <see cref="Reconciler"/> (which needs an
    /// <see cref="IErpGateway"/> registered by the application). Options are validated at startup. Calling it again
    /// configures the options again but registers nothing twice.
    /// </summary>
    /// <param name="builder">The ReleaseKit builder.</param>
    /// <param name="dataSource">Returns the journal's database (SQLite or PostgreSQL).</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static IReleaseKitBuilder AddReconciliation(this IReleaseKitBuilder builder, Func<IServiceProvider, DbDataSource> dataSource, Action<ReconciliationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReconciliationOptions>, ReconciliationOptionsValidator>());
        var options = services.AddOptions<ReconciliationOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(sp => new PostingJournal(dataSource(sp), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new Reconciler(
            sp.GetRequiredService<PostingJournal>(),
            sp.GetRequiredService<IErpGateway>(),
            sp.GetRequiredService<IOptions<ReconciliationOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<Reconciler>>()));
        return builder;
    }

    /// <summary>
    /// Adds a gate that fails while postings journaled more than <see cref="ReconciliationOptions.BacklogBound"/> ago are
    /// still pending, in flight or failed (needs <see cref="AddReconciliation"/>).
    /// </summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="name">The gate's unique name.</param>
    /// <param name="registration">Configures stages, tags, timeout and severity.</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddReconciliationBacklogGate(this IReleaseGatesBuilder builder, string name = "reconciliation-backlog", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.AddGate<ReconciliationBacklogGate>(name, registration);
    }
}
