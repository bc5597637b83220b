using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.HealthCriteria;

/// <summary>Options of a release-health gate (named after the gate).</summary>
public sealed class ReleaseHealthGateOptions
{
    /// <summary>Gets or sets the window the gate judges. Default <c>first-hour</c>.</summary>
    public string Window { get; set; } = ReleaseWindow.FirstHourName;

    /// <summary>Gets or sets whether the gate stores the window's snapshot as the next release's baseline once the window is complete. Default <see langword="true"/>.</summary>
    public bool SaveSnapshotWhenComplete { get; set; } = true;
}

/// <summary>The release-health gate: the window's verdict, Healthy → Pass, Degraded → Warn, Inconclusive → Inconclusive, RollBack → Fail.</summary>
internal sealed class ReleaseHealthGate(ReleaseHealthMonitor monitor, IOptionsMonitor<ReleaseHealthGateOptions> options, IServiceProvider services) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var gateOptions = options.Get(context.GateName);
        ReleaseWindow window;
        try
        {
            window = monitor.Window(gateOptions.Window);
        }
        catch (ArgumentException ex)
        {
            return GateResult.Inconclusive($"The release-health gate cannot resolve its window: {ex.Message}");
        }

        var store = services.GetService<IHealthBaselineStore>();
        var baseline = store is null ? null : await store.FindBaselineAsync(window.Name, monitor.ReleaseId, cancellationToken).ConfigureAwait(false);
        var report = monitor.Evaluate(window, baseline);
        if (store is not null && gateOptions.SaveSnapshotWhenComplete && window.IsComplete(report.EvaluatedAt))
        {
            await store.SaveAsync(monitor.Snapshot(window), cancellationToken).ConfigureAwait(false);
        }

        return report.ToGateResult();
    }
}

/// <summary>Validates <see cref="ReleaseHealthGateOptions"/>.</summary>
internal sealed class ReleaseHealthGateOptionsValidator : IValidateOptions<ReleaseHealthGateOptions>
{
    public ValidateOptionsResult Validate(string? name, ReleaseHealthGateOptions options) =>
        string.IsNullOrWhiteSpace(options.Window)
            ? ValidateOptionsResult.Fail($"ReleaseHealthGateOptions['{name}'].Window is required: first-hour, first-day, first-billing-cycle or a custom window's name.")
            : ValidateOptionsResult.Success;
}
