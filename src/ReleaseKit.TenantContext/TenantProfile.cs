using ReleaseKit.Gates;

namespace ReleaseKit.TenantContext;

/// <summary>How a tenant is hosted.</summary>
public enum TenantTier
{
    /// <summary>Shares application instances and database with other tenants.</summary>
    Shared = 0,

    /// <summary>Shares application instances with a pool of tenants, in a pooled database.</summary>
    Pooled = 1,

    /// <summary>Has its own database.</summary>
    DedicatedDatabase = 2,

    /// <summary>Is hosted in a specific region (data residency).</summary>
    Regional = 3,
}

/// <summary>
/// What ReleaseKit knows about a tenant: its id and name, how it is hosted, where, in which rollout ring a release reaches it
/// (0 is the canary ring; higher rings come later) and when it accepts changes.
/// </summary>
public sealed class TenantProfile
{
    /// <summary>Gets the tenant's id.</summary>
    public required string Id { get; init; }

    /// <summary>Gets the tenant's display name (the id when not set).</summary>
    public string? DisplayName { get; init; }

    /// <summary>Gets how the tenant is hosted.</summary>
    public TenantTier Tier { get; init; }

    /// <summary>Gets the tenant's region, if any (for example <c>eu-west</c>).</summary>
    public string? Region { get; init; }

    /// <summary>Gets the rollout ring: 0 is the canary ring, higher rings receive a release later.</summary>
    public int Ring { get; init; }

    /// <summary>Gets whether the tenant is strategic (released to last, and optionally only after the previous ring has been healthy for a while).</summary>
    public bool IsStrategic { get; init; }

    /// <summary>Gets how long the previous ring must have been healthy before a release may reach this tenant; <see langword="null"/> for no requirement.</summary>
    public TimeSpan? RequiredPreviousRingHealthyFor { get; init; }

    /// <summary>Gets the tenant's own change windows (its business calendar, its freezes), or <see langword="null"/> when it accepts changes at any time.</summary>
    public TenantChangeWindows? ChangeWindows { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Id} (ring {Ring}, {Tier})";
}

/// <summary>
/// A tenant's change-window calendar: the Gates <see cref="BusinessCalendar"/> in the tenant's time zone, windows in which
/// a change is allowed and windows in which it is denied (deny wins; with no allow windows, anything not denied is allowed).
/// </summary>
public sealed class TenantChangeWindows
{
    /// <summary>Creates a change-window calendar.</summary>
    /// <param name="calendar">The tenant's business calendar.</param>
    /// <param name="allow">Windows in which a change is allowed (empty: always, unless denied).</param>
    /// <param name="deny">Windows in which a change is denied (a freeze, month-end close).</param>
    /// <exception cref="ArgumentException">A window's rule is invalid; the message names the window.</exception>
    public TenantChangeWindows(BusinessCalendar calendar, IEnumerable<CalendarWindow>? allow = null, IEnumerable<CalendarWindow>? deny = null)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        Calendar = calendar;
        Allow = [.. allow ?? []];
        Deny = [.. deny ?? []];
        foreach (var window in Allow.Concat(Deny))
        {
            ArgumentNullException.ThrowIfNull(window, nameof(allow));
            try
            {
                // The calendar validates the rule (and throws with what is wrong) before matching.
                _ = calendar.IsInWindow(DateTimeOffset.UnixEpoch, window.Rule);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"Change window '{window.Name}' is invalid: {ex.Message}", nameof(deny), ex);
            }
        }
    }

    /// <summary>Gets the business calendar.</summary>
    public BusinessCalendar Calendar { get; }

    /// <summary>Gets the allow windows.</summary>
    public IReadOnlyList<CalendarWindow> Allow { get; }

    /// <summary>Gets the deny windows.</summary>
    public IReadOnlyList<CalendarWindow> Deny { get; }

    /// <summary>Decides whether a change is allowed at <paramref name="instant"/>.</summary>
    /// <param name="instant">The moment.</param>
    /// <param name="blockingWindow">The deny window that covers the instant, or <see langword="null"/> when the instant is simply outside every allow window (or allowed).</param>
    /// <returns><see langword="true"/> when allowed.</returns>
    public bool IsChangeAllowed(DateTimeOffset instant, out CalendarWindow? blockingWindow)
    {
        foreach (var window in Deny)
        {
            if (Calendar.IsInWindow(instant, window.Rule))
            {
                blockingWindow = window;
                return false;
            }
        }

        blockingWindow = null;
        if (Allow.Count == 0)
        {
            return true;
        }

        foreach (var window in Allow)
        {
            if (Calendar.IsInWindow(instant, window.Rule))
            {
                return true;
            }
        }

        return false;
    }
}
