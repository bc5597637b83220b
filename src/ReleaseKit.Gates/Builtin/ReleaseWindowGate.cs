using System.Globalization;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>
/// Passes when the current moment, in the calendar's time zone, is inside an allow window (or no allow windows are
/// configured) and outside every deny window; deny wins. A valid recorded override turns a failure into a warning.
/// </summary>
internal sealed class ReleaseWindowGate(IOptionsMonitor<ReleaseWindowOptions> options) : IReleaseGate
{
    private const string OverrideSource = "ReleaseWindowOptions.Override";

    public ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Evaluate(options.Get(context.GateName), context.TimeProvider.GetUtcNow()));
    }

    internal static GateResult Evaluate(ReleaseWindowOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        BusinessCalendar calendar;
        try
        {
            calendar = options.CreateCalendar();
        }
        catch (ArgumentException ex)
        {
            return GateResult.Inconclusive($"The release window calendar cannot be built: {ex.Message}", new Evidence("time_zone", options.TimeZoneId, source: "ReleaseWindowOptions.TimeZoneId"));
        }

        var policy = new ReleaseWindowPolicy(calendar, [.. options.AllowWindows], [.. options.DenyWindows]);
        var decision = policy.Decide(now);
        var zone = calendar.TimeZone.Id;
        var at = $"{Short(calendar, now)} ({zone})";
        var evidence = new List<Evidence>
        {
            new("local_time", calendar.FormatLocal(now), source: zone),
            new("time_zone", zone),
        };
        if (options.AllowWindows.Count > 0)
        {
            evidence.Add(new Evidence("allow_windows", Names(decision.MatchedAllow), "any of: " + string.Join(", ", options.AllowWindows.Select(w => w.Name))));
        }

        if (options.DenyWindows.Count > 0)
        {
            evidence.Add(new Evidence("deny_windows", Names(decision.MatchedDeny), "none of: " + string.Join(", ", options.DenyWindows.Select(w => w.Name))));
        }

        if (decision.IsAllowed)
        {
            if (policy.FindNext(now, allowed: false) is { } closes)
            {
                evidence.Add(new Evidence("allowed_until", calendar.FormatLocal(closes), source: zone));
            }

            AddIgnoredOverride(options, calendar, now, evidence);
            return GateResult.Pass(
                decision.MatchedAllow.Count > 0
                    ? $"Inside allow window {Quoted(decision.MatchedAllow)} at {at}, and no deny window applies."
                    : $"No deny window covers {at}, and no allow windows are configured.",
                evidence);
        }

        var reason = decision.MatchedDeny.Count > 0
            ? $"Deny window {Quoted(decision.MatchedDeny)} covers {at}; a deny window wins over every allow window."
            : $"{at} is outside every allow window ({string.Join(", ", options.AllowWindows.Select(w => $"'{w.Name}'"))}).";
        var next = policy.FindNext(now, allowed: true);
        evidence.Add(new Evidence("next_allowed", next is { } n ? calendar.FormatLocal(n) : $"(none within {ReleaseWindowPolicy.SearchHorizon.TotalDays.ToString(CultureInfo.InvariantCulture)} days)", source: zone));
        if (next is { } nextAllowed)
        {
            reason += $" Next allowed at {Short(calendar, nextAllowed)}.";
        }

        if (options.Override is { Until: { } until } o && until > now && until - now <= options.MaxOverrideDuration
            && !string.IsNullOrWhiteSpace(o.By) && !string.IsNullOrWhiteSpace(o.Reason))
        {
            evidence.Add(new Evidence("override_by", o.By, source: OverrideSource));
            evidence.Add(new Evidence("override_reason", o.Reason, source: OverrideSource));
            evidence.Add(new Evidence("override_until", calendar.FormatLocal(until), source: OverrideSource));
            return GateResult.Warn($"Overridden by {o.By} until {Short(calendar, until)} ({zone}): {o.Reason}. Without the override: {reason}", evidence);
        }

        AddIgnoredOverride(options, calendar, now, evidence);
        return GateResult.Fail(reason, evidence);
    }

    private static void AddIgnoredOverride(ReleaseWindowOptions options, BusinessCalendar calendar, DateTimeOffset now, List<Evidence> evidence)
    {
        if (options.Override is not { } o)
        {
            return;
        }

        var why = o switch
        {
            { Until: null } => "it has no Until",
            { Until: { } u } when u <= now => $"it expired at {calendar.FormatLocal(u)}",
            { Until: { } u } when u - now > options.MaxOverrideDuration => $"it runs until {calendar.FormatLocal(u)}, longer than MaxOverrideDuration ({options.MaxOverrideDuration})",
            _ when string.IsNullOrWhiteSpace(o.By) => "it does not say who recorded it",
            _ when string.IsNullOrWhiteSpace(o.Reason) => "it does not say why",
            _ => null,
        };
        if (why is not null)
        {
            evidence.Add(new Evidence("override_ignored", $"override by {(string.IsNullOrWhiteSpace(o.By) ? "(unknown)" : o.By)} ignored: {why}", calendar.FormatLocal(now), source: OverrideSource));
        }
    }

    private static string Names(IReadOnlyList<CalendarWindow> windows) =>
        windows.Count == 0 ? "(none)" : string.Join(", ", windows.Select(w => w.Name));

    private static string Quoted(IReadOnlyList<CalendarWindow> windows) =>
        string.Join(", ", windows.Select(w => $"'{w.Name}' ({w.Rule.Description})"));

    private static string Short(BusinessCalendar calendar, DateTimeOffset instant) =>
        calendar.ToLocalTime(instant).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}

/// <summary>The decision of a set of allow and deny windows at an instant (deny wins), and a search for when it next changes.</summary>
internal sealed class ReleaseWindowPolicy
{
    /// <summary>How far ahead <see cref="FindNext"/> looks.</summary>
    internal static readonly TimeSpan SearchHorizon = TimeSpan.FromDays(366);

    private static readonly TimeSpan TransitionProbeStep = TimeSpan.FromHours(6);

    private readonly BusinessCalendar _calendar;
    private readonly CalendarWindow[] _allow;
    private readonly CalendarWindow[] _deny;

    internal ReleaseWindowPolicy(BusinessCalendar calendar, CalendarWindow[] allow, CalendarWindow[] deny)
    {
        _calendar = calendar;
        _allow = allow;
        _deny = deny;
    }

    internal WindowDecision Decide(DateTimeOffset instant)
    {
        var (date, time) = Local(instant);
        var allow = _allow.Where(w => w.Rule.Matches(_calendar, date, time)).ToArray();
        var deny = _deny.Where(w => w.Rule.Matches(_calendar, date, time)).ToArray();
        return new WindowDecision(deny.Length == 0 && (_allow.Length == 0 || allow.Length > 0), allow, deny);
    }

    internal bool IsAllowed(DateTimeOffset instant)
    {
        var (date, time) = Local(instant);
        foreach (var window in _deny)
        {
            if (window.Rule.Matches(_calendar, date, time))
            {
                return false;
            }
        }

        if (_allow.Length == 0)
        {
            return true;
        }

        foreach (var window in _allow)
        {
            if (window.Rule.Matches(_calendar, date, time))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The first instant after <paramref name="after"/> (within <see cref="SearchHorizon"/>) at which
    /// <see cref="IsAllowed"/> is <paramref name="allowed"/>, or <see langword="null"/>.
    /// </summary>
    /// <remarks>
    /// Rules depend only on the local date and wall-clock time, so the decision can change only at local midnight,
    /// at a rule's from/to time, or when the zone's offset changes. Those instants are the candidates, checked in order.
    /// </remarks>
    internal DateTimeOffset? FindNext(DateTimeOffset after, bool allowed)
    {
        if (_allow.Length == 0 && _deny.Length == 0)
        {
            return allowed ? after + TimeSpan.FromTicks(1) : null; // no windows: always allowed
        }

        var end = after + SearchHorizon;
        foreach (var candidate in Candidates(after, end))
        {
            if (IsAllowed(candidate) == allowed)
            {
                return candidate;
            }
        }

        return null;
    }

    internal List<DateTimeOffset> Candidates(DateTimeOffset after, DateTimeOffset end)
    {
        var zone = _calendar.TimeZone;
        var times = new SortedSet<TimeOnly> { TimeOnly.MinValue };
        foreach (var window in _allow.Concat(_deny))
        {
            window.Rule.AddBoundaries(times);
        }

        var candidates = new List<DateTimeOffset>();
        var lastDate = Local(end).Date;
        for (var date = Local(after).Date; date <= lastDate; date = date.AddDays(1))
        {
            foreach (var time in times)
            {
                var local = date.ToDateTime(time, DateTimeKind.Unspecified);
                if (zone.IsInvalidTime(local))
                {
                    continue; // skipped by the clock: the offset change below is the candidate
                }

                if (zone.IsAmbiguousTime(local))
                {
                    candidates.AddRange(zone.GetAmbiguousTimeOffsets(local).Select(offset => new DateTimeOffset(local, offset)));
                }
                else
                {
                    candidates.Add(new DateTimeOffset(local, zone.GetUtcOffset(local)));
                }
            }
        }

        // Offset changes, probed on a whole-hour UTC grid and narrowed to the second.
        var probe = new DateTimeOffset(after.UtcTicks - (after.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);
        while (probe < end)
        {
            var next = probe + TransitionProbeStep;
            if (zone.GetUtcOffset(probe) != zone.GetUtcOffset(next))
            {
                candidates.Add(FindTransition(zone, probe, next));
            }

            probe = next;
        }

        return [.. candidates.Where(c => c > after && c <= end).Select(c => c.ToUniversalTime()).Distinct().Order()];
    }

    private static DateTimeOffset FindTransition(TimeZoneInfo zone, DateTimeOffset low, DateTimeOffset high)
    {
        var before = zone.GetUtcOffset(low);
        var lo = low.UtcTicks / TimeSpan.TicksPerSecond;
        var hi = high.UtcTicks / TimeSpan.TicksPerSecond;
        while (hi - lo > 1)
        {
            var mid = lo + ((hi - lo) / 2);
            if (zone.GetUtcOffset(new DateTimeOffset(mid * TimeSpan.TicksPerSecond, TimeSpan.Zero)) == before)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return new DateTimeOffset(hi * TimeSpan.TicksPerSecond, TimeSpan.Zero);
    }

    private (DateOnly Date, TimeOnly Time) Local(DateTimeOffset instant)
    {
        var local = _calendar.ToLocalTime(instant).DateTime;
        return (DateOnly.FromDateTime(local), TimeOnly.FromDateTime(local));
    }
}

/// <summary>The decision at one instant: allowed or not, and which windows matched.</summary>
internal sealed record WindowDecision(bool IsAllowed, IReadOnlyList<CalendarWindow> MatchedAllow, IReadOnlyList<CalendarWindow> MatchedDeny);
