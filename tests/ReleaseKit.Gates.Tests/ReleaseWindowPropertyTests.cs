using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class ReleaseWindowPropertyTests
{
    private static readonly string[] Zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"];

    // Days on which some of the zones above change their clocks, to draw instants near transitions often.
    private static readonly DateTimeOffset[] TransitionDays =
    [
        new(2028, 3, 26, 1, 0, 0, TimeSpan.Zero), new(2028, 10, 29, 1, 0, 0, TimeSpan.Zero),
        new(2028, 3, 12, 7, 0, 0, TimeSpan.Zero), new(2028, 11, 5, 6, 0, 0, TimeSpan.Zero),
        new(2028, 4, 1, 15, 0, 0, TimeSpan.Zero), new(2028, 9, 30, 15, 30, 0, TimeSpan.Zero),
    ];

    private static readonly DayOfWeek[] Days = Enum.GetValues<DayOfWeek>();

    [Property(MaxTest = 300)]
    public Property Deny_window_that_covers_an_instant_wins_over_any_allow_window() =>
        Prop.ForAll(Scenarios().ToArbitrary(), s =>
        {
            var calendar = s.Calendar();
            var covering = Covering(calendar, s.Instant, s.CoverKind);
            var deny = s.Deny.Append(covering).Select((rule, i) => new CalendarWindow($"deny-{i}", rule)).ToArray();
            var allow = s.Allow.Append(covering).Select((rule, i) => new CalendarWindow($"allow-{i}", rule)).ToArray();
            var options = Options(s, allow, deny);

            var result = ReleaseWindowGate.Evaluate(options, s.Instant);

            return calendar.IsInWindow(s.Instant, covering)
                && !new ReleaseWindowPolicy(calendar, allow, deny).Decide(s.Instant).IsAllowed
                && result.Verdict == Verdict.Fail;
        });

    [Property(MaxTest = 300)]
    public Property Without_deny_windows_a_release_is_allowed_exactly_inside_an_allow_window_or_when_none_is_configured() =>
        Prop.ForAll(Scenarios().ToArbitrary(), s =>
        {
            var calendar = s.Calendar();
            var allow = s.Allow.Select((rule, i) => new CalendarWindow($"allow-{i}", rule)).ToArray();

            var decision = new ReleaseWindowPolicy(calendar, allow, []).Decide(s.Instant);

            var expected = allow.Length == 0 || allow.Any(w => calendar.IsInWindow(s.Instant, w.Rule));
            return decision.IsAllowed == expected && decision.MatchedDeny.Count == 0;
        });

    [Property(MaxTest = 150)]
    public Property The_next_change_is_the_first_instant_at_which_the_decision_flips() =>
        Prop.ForAll(Scenarios().SelectMany(s => Gen.ArrayOf(Gen.Choose(1, 1_000_000), 40).Select(samples => (s, samples))).ToArbitrary(), input =>
        {
            var (s, samples) = input;
            var calendar = s.Calendar();
            var policy = new ReleaseWindowPolicy(
                calendar,
                [.. s.Allow.Select((rule, i) => new CalendarWindow($"allow-{i}", rule))],
                [.. s.Deny.Select((rule, i) => new CalendarWindow($"deny-{i}", rule))]);
            var now = policy.IsAllowed(s.Instant);

            var next = policy.FindNext(s.Instant, !now);

            var end = next ?? s.Instant + ReleaseWindowPolicy.SearchHorizon;
            var span = (end - s.Instant).Ticks;
            var unchangedBefore = samples
                .Select(k => s.Instant + TimeSpan.FromTicks((long)(span * (k / 1_000_001.0))))
                .Concat(Enumerable.Range(1, 8 * 60).Select(minute => s.Instant.AddMinutes(minute)).Where(t => t < end)) // densely near now, where most scenarios start close to a clock change
                .Append(end - TimeSpan.FromTicks(1))
                .Where(t => t > s.Instant)
                .All(t => policy.IsAllowed(t) == now);
            return unchangedBefore && (next is not { } n || policy.IsAllowed(n) != now);
        });

    private static ReleaseWindowOptions Options(Scenario s, CalendarWindow[] allow, CalendarWindow[] deny)
    {
        var options = new ReleaseWindowOptions { TimeZoneId = s.Zone };
        options.AddHolidays(s.Holidays);
        foreach (var window in allow)
        {
            options.AllowWindows.Add(window);
        }

        foreach (var window in deny)
        {
            options.DenyWindows.Add(window);
        }

        return options;
    }

    /// <summary>A rule built from the instant's own local date and time, so it covers the instant.</summary>
    private static WindowRule Covering(BusinessCalendar calendar, DateTimeOffset instant, int kind)
    {
        var local = calendar.ToLocalTime(instant).DateTime;
        var date = DateOnly.FromDateTime(local);
        var minute = new TimeOnly(local.Hour, local.Minute);
        return (kind % 5) switch
        {
            0 => WindowRule.Dates(date),
            1 => WindowRule.DateRange(date.AddDays(-kind % 3), date.AddDays(kind % 4)),
            2 => WindowRule.WeeklyHours([date.DayOfWeek], minute, minute.AddMinutes(1)),
            3 => WindowRule.DaysOfWeek(date.DayOfWeek),
            _ => WindowRule.WeeklyHours([date.DayOfWeek], minute, minute.AddHours(-1)), // spans midnight
        };
    }

    private static Gen<Scenario> Scenarios() =>
        from zone in Gen.Elements(Zones)
        from instant in Instants()
        from holidays in Gen.ArrayOf(Gen.Choose(0, 60).Select(d => DateOnly.FromDateTime(instant.UtcDateTime).AddDays(d - 30)), 4)
        from allow in Gen.ArrayOf(Rules(), 3)
        from allowCount in Gen.Choose(0, 3)
        from deny in Gen.ArrayOf(Rules(), 2)
        from denyCount in Gen.Choose(0, 2)
        from coverKind in Gen.Choose(0, 99)
        select new Scenario(zone, instant, holidays, allow[..allowCount], deny[..denyCount], coverKind);

    private static Gen<DateTimeOffset> Instants() =>
        Gen.OneOf(
            from day in Gen.Choose(0, 365 * 12)
            from second in Gen.Choose(0, 86_399)
            select new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(day).AddSeconds(second),
            from transition in Gen.Elements(TransitionDays)
            from second in Gen.Choose(-4 * 3600, 4 * 3600)
            select transition.AddSeconds(second));

    private static Gen<WindowRule> Rules() =>
        Gen.OneOf(
            Gen.Choose(1, 6).Select(WindowRule.LastBusinessDaysOfMonth),
            Gen.Choose(1, 6).Select(WindowRule.FirstBusinessDaysOfMonth),
            from n in Gen.Choose(1, 5)
            from day in Gen.Elements(Days)
            select WindowRule.NthWeekdayOfMonth(n, day),
            Gen.Elements(Days).Select(WindowRule.LastWeekdayOfMonth),
            from days in Gen.SubListOf(Days).Where(d => d.Count > 0)
            from opens in Times()
            from closes in Times().Where(t => t != opens)
            select WindowRule.WeeklyHours(days, opens, closes),
            from first in Gen.Choose(0, 365 * 12)
            from length in Gen.Choose(0, 20)
            let start = new DateOnly(2020, 1, 1).AddDays(first)
            select WindowRule.DateRange(start, start.AddDays(length)),
            Gen.Elements(WindowRule.Holidays(), WindowRule.BusinessDays(), WindowRule.NonBusinessDays()),
            from day in Gen.Elements(Days)
            from opens in Times()
            select WindowRule.AllOf(WindowRule.LastBusinessDaysOfMonth(5), WindowRule.WeeklyHours([day], opens, opens.AddHours(3))));

    private static Gen<TimeOnly> Times() =>
        Gen.OneOf(
            Gen.Choose(0, 47).Select(halfHours => new TimeOnly(0, 0).AddMinutes(halfHours * 30)),
            Gen.Choose(0, 1439).Select(minutes => new TimeOnly(0, 0).AddMinutes(minutes)));

    public sealed record Scenario(string Zone, DateTimeOffset Instant, DateOnly[] Holidays, WindowRule[] Allow, WindowRule[] Deny, int CoverKind)
    {
        public BusinessCalendar Calendar() => BusinessCalendar.ForTimeZone(Zone, holidays: Holidays);

        public override string ToString() =>
            $"{Zone} at {Instant:O}; holidays [{string.Join(", ", Holidays)}]; allow [{string.Join("; ", Allow.Select(r => r.Description))}]; deny [{string.Join("; ", Deny.Select(r => r.Description))}]; cover {CoverKind}";
    }
}
