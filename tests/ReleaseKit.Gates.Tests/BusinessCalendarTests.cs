using System.Globalization;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class BusinessCalendarTests
{
    private static readonly BusinessCalendar Berlin = BusinessCalendar.ForTimeZone("Europe/Berlin");

    [Fact]
    public void Weekend_days_and_holidays_are_not_business_days()
    {
        var calendar = BusinessCalendar.ForTimeZone("Europe/Berlin", holidays: [new DateOnly(2028, 5, 1)]);

        Assert.True(calendar.IsBusinessDay(new DateOnly(2028, 5, 2)));   // Tuesday
        Assert.False(calendar.IsBusinessDay(new DateOnly(2028, 5, 1)));  // Monday, holiday
        Assert.False(calendar.IsBusinessDay(new DateOnly(2028, 5, 6)));  // Saturday
        Assert.False(calendar.IsBusinessDay(new DateOnly(2028, 5, 7)));  // Sunday
        Assert.True(calendar.IsHoliday(new DateOnly(2028, 5, 1)));
    }

    [Fact]
    public void Weekend_days_are_configurable()
    {
        var calendar = BusinessCalendar.ForTimeZone("Asia/Dubai", weekendDays: [DayOfWeek.Friday, DayOfWeek.Saturday]);

        Assert.True(calendar.IsBusinessDay(new DateOnly(2028, 5, 7)));   // Sunday
        Assert.False(calendar.IsBusinessDay(new DateOnly(2028, 5, 5)));  // Friday
    }

    [Fact]
    public void Last_three_business_days_of_February_2028_include_the_leap_day()
    {
        var days = MatchingDays(Berlin, WindowRule.LastBusinessDaysOfMonth(3), 2028, 2);

        Assert.Equal([new DateOnly(2028, 2, 25), new DateOnly(2028, 2, 28), new DateOnly(2028, 2, 29)], days);
    }

    [Fact]
    public void Last_three_business_days_of_February_2027_end_on_the_Friday_before_the_28th()
    {
        var days = MatchingDays(Berlin, WindowRule.LastBusinessDaysOfMonth(3), 2027, 2);

        Assert.Equal([new DateOnly(2027, 2, 24), new DateOnly(2027, 2, 25), new DateOnly(2027, 2, 26)], days);
    }

    [Fact]
    public void A_month_ending_on_a_weekend_has_its_last_business_day_on_the_Friday()
    {
        var days = MatchingDays(Berlin, WindowRule.LastBusinessDaysOfMonth(1), 2027, 1);

        Assert.Equal([new DateOnly(2027, 1, 29)], days);
    }

    [Fact]
    public void Holidays_shift_the_last_business_days_of_the_month_earlier()
    {
        var plain = MatchingDays(Berlin, WindowRule.LastBusinessDaysOfMonth(3), 2027, 12);
        var withHolidays = BusinessCalendar.ForTimeZone("Europe/Berlin", holidays: [new DateOnly(2027, 12, 24), new DateOnly(2027, 12, 31)]);
        var shifted = MatchingDays(withHolidays, WindowRule.LastBusinessDaysOfMonth(3), 2027, 12);

        Assert.Equal([new DateOnly(2027, 12, 29), new DateOnly(2027, 12, 30), new DateOnly(2027, 12, 31)], plain);
        Assert.Equal([new DateOnly(2027, 12, 28), new DateOnly(2027, 12, 29), new DateOnly(2027, 12, 30)], shifted);
    }

    [Fact]
    public void First_business_days_skip_a_new_year_holiday_and_the_weekend()
    {
        var calendar = BusinessCalendar.ForTimeZone("Europe/Berlin", holidays: [new DateOnly(2027, 1, 1)]);

        var days = MatchingDays(calendar, WindowRule.FirstBusinessDaysOfMonth(2), 2027, 1);

        Assert.Equal([new DateOnly(2027, 1, 4), new DateOnly(2027, 1, 5)], days);
    }

    [Fact]
    public void A_count_larger_than_the_months_business_days_covers_every_business_day()
    {
        var days = MatchingDays(Berlin, WindowRule.LastBusinessDaysOfMonth(31), 2028, 2);

        Assert.Equal(21, days.Count); // February 2028: 29 days, 8 weekend days
        Assert.All(days, d => Assert.True(Berlin.IsBusinessDay(d)));
    }

    [Fact]
    public void Rules_are_evaluated_on_the_local_date_of_the_calendars_zone_not_on_the_utc_date()
    {
        var instant = Utc("2028-02-29T23:30:00Z"); // 2028-03-01 00:30 in Berlin
        var utc = BusinessCalendar.ForTimeZone("UTC");

        Assert.True(utc.IsInWindow(instant, WindowRule.LastBusinessDaysOfMonth(1)));
        Assert.False(Berlin.IsInWindow(instant, WindowRule.LastBusinessDaysOfMonth(1)));
        Assert.True(Berlin.IsInWindow(instant, WindowRule.FirstBusinessDaysOfMonth(1)));
    }

    [Fact]
    public void Nth_weekday_of_the_month_finds_the_second_Tuesday_and_the_last_Friday()
    {
        Assert.Equal([new DateOnly(2028, 3, 14)], MatchingDays(Berlin, WindowRule.NthWeekdayOfMonth(2, DayOfWeek.Tuesday), 2028, 3));
        Assert.Equal([new DateOnly(2028, 3, 31)], MatchingDays(Berlin, WindowRule.LastWeekdayOfMonth(DayOfWeek.Friday), 2028, 3));
        Assert.Equal([new DateOnly(2028, 2, 29)], MatchingDays(Berlin, WindowRule.LastWeekdayOfMonth(DayOfWeek.Tuesday), 2028, 2));
    }

    [Fact]
    public void A_fifth_weekday_matches_only_in_months_that_have_one()
    {
        var fifthMonday = WindowRule.NthWeekdayOfMonth(5, DayOfWeek.Monday);

        Assert.Equal([new DateOnly(2028, 5, 29)], MatchingDays(Berlin, fifthMonday, 2028, 5));
        Assert.Empty(MatchingDays(Berlin, fifthMonday, 2028, 3));
    }

    [Fact]
    public void Nth_weekday_is_not_moved_by_holidays()
    {
        var calendar = BusinessCalendar.ForTimeZone("Europe/Berlin", holidays: [new DateOnly(2028, 3, 14)]);

        Assert.Equal([new DateOnly(2028, 3, 14)], MatchingDays(calendar, WindowRule.NthWeekdayOfMonth(2, DayOfWeek.Tuesday), 2028, 3));
    }

    [Fact]
    public void A_weekly_window_inside_the_skipped_spring_forward_hour_matches_no_instant()
    {
        // 2028-03-26 in Berlin: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        var rule = WindowRule.WeeklyHours([DayOfWeek.Sunday], new TimeOnly(2, 0), new TimeOnly(3, 0));

        var matched = MatchingMinutes(Berlin, rule, Utc("2028-03-25T22:00:00Z"), Utc("2028-03-26T04:00:00Z"));

        Assert.Empty(matched);
    }

    [Fact]
    public void A_weekly_window_overlapping_the_spring_forward_gap_starts_when_the_clock_jumps()
    {
        var rule = WindowRule.WeeklyHours([DayOfWeek.Sunday], new TimeOnly(2, 30), new TimeOnly(4, 0));

        var matched = MatchingMinutes(Berlin, rule, Utc("2028-03-25T22:00:00Z"), Utc("2028-03-26T04:00:00Z"));

        Assert.Equal(60, matched.Count); // local 03:00-04:00 CEST only
        Assert.Equal(Utc("2028-03-26T01:00:00Z"), matched[0]);
        Assert.Equal(Utc("2028-03-26T01:59:00Z"), matched[^1]);
    }

    [Fact]
    public void A_weekly_window_in_the_repeated_fall_back_hour_matches_both_times()
    {
        // 2028-10-29 in Berlin: 03:00 CEST goes back to 02:00 CET (01:00 UTC); 02:00-03:00 happens twice.
        var rule = WindowRule.WeeklyHours([DayOfWeek.Sunday], new TimeOnly(2, 0), new TimeOnly(3, 0));

        var matched = MatchingMinutes(Berlin, rule, Utc("2028-10-28T22:00:00Z"), Utc("2028-10-29T04:00:00Z"));

        Assert.Equal(120, matched.Count);
        Assert.Equal(Utc("2028-10-29T00:00:00Z"), matched[0]);
        Assert.Equal(Utc("2028-10-29T01:59:00Z"), matched[^1]);
    }

    [Fact]
    public void A_whole_day_rule_covers_23_hours_on_the_spring_forward_day_and_25_on_the_fall_back_day()
    {
        var spring = MatchingMinutes(Berlin, WindowRule.Dates(new DateOnly(2028, 3, 26)), Utc("2028-03-25T20:00:00Z"), Utc("2028-03-27T04:00:00Z"));
        var autumn = MatchingMinutes(Berlin, WindowRule.Dates(new DateOnly(2028, 10, 29)), Utc("2028-10-28T20:00:00Z"), Utc("2028-10-30T04:00:00Z"));

        Assert.Equal(23 * 60, spring.Count);
        Assert.Equal(25 * 60, autumn.Count);
    }

    [Fact]
    public void A_weekly_window_from_later_than_to_spans_midnight_into_the_next_day()
    {
        var rule = WindowRule.WeeklyHours([DayOfWeek.Friday], new TimeOnly(22, 0), new TimeOnly(2, 0));

        Assert.False(Berlin.IsInWindow(Local(2028, 6, 2, 21, 59), rule)); // Friday
        Assert.True(Berlin.IsInWindow(Local(2028, 6, 2, 22, 0), rule));
        Assert.True(Berlin.IsInWindow(Local(2028, 6, 3, 1, 59), rule));  // Saturday morning
        Assert.False(Berlin.IsInWindow(Local(2028, 6, 3, 2, 0), rule));
        Assert.False(Berlin.IsInWindow(Local(2028, 6, 3, 22, 30), rule)); // Saturday evening is not listed
        Assert.False(Berlin.IsInWindow(Local(2028, 6, 2, 1, 0), rule));  // Friday morning belongs to Thursday
    }

    [Fact]
    public void A_run_of_weekdays_covers_its_hours_on_each_day_and_wraps_over_the_weekend()
    {
        var monToThu = WindowRule.WeeklyHours(DayOfWeek.Monday, DayOfWeek.Thursday, new TimeOnly(9, 0), new TimeOnly(16, 0));
        var friToMon = WindowRule.WeeklyHours(DayOfWeek.Friday, DayOfWeek.Monday, new TimeOnly(9, 0), new TimeOnly(16, 0));

        Assert.True(Berlin.IsInWindow(Local(2028, 6, 1, 15, 59), monToThu));  // Thursday
        Assert.False(Berlin.IsInWindow(Local(2028, 6, 1, 16, 0), monToThu));
        Assert.False(Berlin.IsInWindow(Local(2028, 6, 2, 10, 0), monToThu));  // Friday
        Assert.True(Berlin.IsInWindow(Local(2028, 6, 4, 10, 0), friToMon));   // Sunday
        Assert.False(Berlin.IsInWindow(Local(2028, 6, 6, 10, 0), friToMon));  // Tuesday
        Assert.Equal("Mon-Thu 09:00-16:00", monToThu.Description);
    }

    [Fact]
    public void All_of_intersects_rules_for_the_last_Friday_evening()
    {
        var rule = WindowRule.AllOf(WindowRule.LastWeekdayOfMonth(DayOfWeek.Friday), WindowRule.WeeklyHours([DayOfWeek.Friday], new TimeOnly(18, 0), new TimeOnly(22, 0)));

        Assert.True(Berlin.IsInWindow(Local(2028, 3, 31, 19, 0), rule));
        Assert.False(Berlin.IsInWindow(Local(2028, 3, 31, 12, 0), rule));
        Assert.False(Berlin.IsInWindow(Local(2028, 3, 24, 19, 0), rule));
    }

    [Fact]
    public void Day_kind_rules_follow_the_calendars_holidays_and_weekend()
    {
        var calendar = BusinessCalendar.ForTimeZone("Europe/Berlin", holidays: [new DateOnly(2028, 12, 25)]);

        Assert.True(calendar.IsInWindow(Local(2028, 12, 25, 10, 0), WindowRule.Holidays()));
        Assert.True(calendar.IsInWindow(Local(2028, 12, 25, 10, 0), WindowRule.NonBusinessDays()));
        Assert.True(calendar.IsInWindow(Local(2028, 12, 23, 10, 0), WindowRule.NonBusinessDays())); // Saturday
        Assert.False(calendar.IsInWindow(Local(2028, 12, 23, 10, 0), WindowRule.Holidays()));
        Assert.True(calendar.IsInWindow(Local(2028, 12, 27, 10, 0), WindowRule.BusinessDays()));
    }

    [Fact]
    public void A_date_range_includes_both_ends()
    {
        var rule = WindowRule.DateRange(new DateOnly(2028, 12, 20), new DateOnly(2029, 1, 2));

        Assert.True(Berlin.IsInWindow(Local(2028, 12, 20, 0, 0), rule));
        Assert.True(Berlin.IsInWindow(Local(2029, 1, 2, 23, 59), rule));
        Assert.False(Berlin.IsInWindow(Local(2029, 1, 3, 0, 0), rule));
        Assert.False(Berlin.IsInWindow(Local(2028, 12, 19, 23, 59), rule));
    }

    [Fact]
    public void An_invalid_rule_is_rejected_with_a_message_naming_the_parameter()
    {
        var ex = Assert.Throws<ArgumentException>(() => Berlin.IsInWindow(Local(2028, 1, 3, 10, 0), WindowRule.LastBusinessDaysOfMonth(0)));

        Assert.Contains("count is 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1 to 31", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_time_zone_is_rejected_with_its_id()
    {
        var ex = Assert.Throws<ArgumentException>(() => BusinessCalendar.ForTimeZone("Mars/Olympus_Mons"));

        Assert.Contains("Mars/Olympus_Mons", ex.Message, StringComparison.Ordinal);
        Assert.Equal("timeZoneId", ex.ParamName);
    }

    [Fact]
    public void A_calendar_without_business_days_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new BusinessCalendar(TimeZoneInfo.Utc, Enum.GetValues<DayOfWeek>()));
    }

    internal static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>A Berlin local time that is neither skipped nor repeated.</summary>
    internal static DateTimeOffset Local(int year, int month, int day, int hour, int minute)
    {
        var local = new DateTime(year, month, day, hour, minute, 0, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, Berlin.TimeZone.GetUtcOffset(local));
    }

    private static List<DateOnly> MatchingDays(BusinessCalendar calendar, WindowRule rule, int year, int month)
    {
        var days = new List<DateOnly>();
        for (var day = 1; day <= DateTime.DaysInMonth(year, month); day++)
        {
            var local = new DateTime(year, month, day, 12, 0, 0, DateTimeKind.Unspecified);
            if (calendar.IsInWindow(new DateTimeOffset(local, calendar.TimeZone.GetUtcOffset(local)), rule))
            {
                days.Add(DateOnly.FromDateTime(local));
            }
        }

        return days;
    }

    private static List<DateTimeOffset> MatchingMinutes(BusinessCalendar calendar, WindowRule rule, DateTimeOffset from, DateTimeOffset to)
    {
        var matched = new List<DateTimeOffset>();
        for (var instant = from; instant < to; instant = instant.AddMinutes(1))
        {
            if (calendar.IsInWindow(instant, rule))
            {
                matched.Add(instant);
            }
        }

        return matched;
    }
}
