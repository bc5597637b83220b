using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using ReleaseKit.Gates;
using ReleaseKit.TenantContext.Internal;

namespace ReleaseKit.TenantContext;

/// <summary>
/// Carries the tenant id on telemetry: as the <c>tenant.id</c> tag of an <see cref="Activity"/>, and as OpenTelemetry baggage
/// (<c>tenant.id</c>) on outgoing work, read back on incoming work. An id read from baggage is input from the caller:
/// resolve it (<see cref="TenantSourceKind.JobPayload"/> or a custom strategy) before beginning a scope with it.
/// </summary>
public static class TenantPropagation
{
    /// <summary>The baggage key and activity tag name: <c>tenant.id</c>.</summary>
    public const string Key = TelemetryTags.TenantId;

    private static readonly BaggagePropagator FallbackPropagator = new();

    /// <summary>Tags an activity with the tenant id (the ambient tenant when <paramref name="tenantId"/> is <see langword="null"/>).</summary>
    /// <param name="activity">The activity (<see cref="Activity.Current"/> typically); nothing happens when it is <see langword="null"/> or not recorded.</param>
    /// <param name="tenantId">The tenant id, or <see langword="null"/> for the ambient tenant.</param>
    /// <returns>The activity.</returns>
    public static Activity? TagActivity(Activity? activity, string? tenantId = null)
    {
        if (activity is { IsAllDataRequested: true } && (tenantId ?? AmbientTenant.TenantId) is { } id)
        {
            activity.SetTag(Key, id);
        }

        return activity;
    }

    /// <summary>Sets the tenant id as baggage of the current flow (<see cref="Baggage.Current"/>), so instrumented outgoing calls carry it.</summary>
    /// <param name="tenantId">The tenant id, or <see langword="null"/> for the ambient tenant.</param>
    /// <returns>The baggage now current.</returns>
    /// <exception cref="TenantNotSetException">No tenant id is given and none is ambient.</exception>
    public static Baggage SetBaggage(string? tenantId = null)
    {
        var id = tenantId ?? AmbientTenant.TenantId ?? throw new TenantNotSetException();
        return Baggage.SetBaggage(Key, id);
    }

    /// <summary>Writes the current trace context and baggage, with the tenant id added, into an outgoing carrier (message headers, a job payload).</summary>
    /// <typeparam name="T">The carrier type.</typeparam>
    /// <param name="carrier">The carrier.</param>
    /// <param name="setter">Sets one field of the carrier.</param>
    /// <param name="tenantId">The tenant id, or <see langword="null"/> for the ambient tenant.</param>
    /// <param name="propagator">The propagator; <see cref="Propagators.DefaultTextMapPropagator"/> when it propagates baggage, else a <see cref="BaggagePropagator"/>.</param>
    /// <exception cref="TenantNotSetException">No tenant id is given and none is ambient.</exception>
    public static void Inject<T>(T carrier, Action<T, string, string> setter, string? tenantId = null, TextMapPropagator? propagator = null)
    {
        ArgumentNullException.ThrowIfNull(setter);
        var id = tenantId ?? AmbientTenant.TenantId ?? throw new TenantNotSetException();
        var context = new PropagationContext(Activity.Current?.Context ?? default, Baggage.Current.SetBaggage(Key, id));
        Resolve(propagator).Inject(context, carrier, setter);
    }

    /// <summary>Reads the tenant id from the baggage of an incoming carrier.</summary>
    /// <typeparam name="T">The carrier type.</typeparam>
    /// <param name="carrier">The carrier.</param>
    /// <param name="getter">Reads one field of the carrier.</param>
    /// <param name="propagator">The propagator; as for <see cref="Inject{T}(T, Action{T, string, string}, string?, TextMapPropagator?)"/>.</param>
    /// <returns>The tenant id, or <see langword="null"/> when the carrier has none.</returns>
    public static string? Extract<T>(T carrier, Func<T, string, IEnumerable<string>?> getter, TextMapPropagator? propagator = null)
    {
        ArgumentNullException.ThrowIfNull(getter);
        var context = Resolve(propagator).Extract(default, carrier, getter);
        var id = context.Baggage.GetBaggage(Key);
        return string.IsNullOrWhiteSpace(id) ? null : id;
    }

    private static TextMapPropagator Resolve(TextMapPropagator? propagator)
    {
        if (propagator is not null)
        {
            return propagator;
        }

        var configured = Propagators.DefaultTextMapPropagator;
        return configured.Fields?.Contains("baggage") == true ? configured : FallbackPropagator;
    }
}
