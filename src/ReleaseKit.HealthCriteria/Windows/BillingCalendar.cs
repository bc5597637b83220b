using ReleaseKit.Gates;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// When billing runs: the local dates of billing days in a time zone. A billing day runs from local midnight to the
/// next local midnight. Use <see cref="MonthlyOnDay(int, TimeZoneInfo)"/>, <see cref="LastBusinessDayOfMonth(BusinessCalendar)"/>,
/// <see cref="OnDates(TimeZoneInfo, IEnumerable{DateOnly})"/>, or derive for another rule.
/// </summary>
public abstract class BillingCalendar
{
    /// <summary>Creates a billing calendar.</summary>
    /// <param name="timeZone">The time zone billing days are local to.</param>
    protected BillingCalendar(TimeZoneInfo timeZone)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        TimeZone = timeZone;
    }

    /// <summary>Gets the time zone billing days are local to.</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>Whether a local date is a billing day.</summary>
    /// <param name="date">The local date.</param>
    /// <returns><see langword="true"/> for a billing day.</returns>
    public abstract bool IsBillingDay(DateOnly date);

    /// <summary>Billing on day <paramref name="day"/> of every month; in shorter months, on the month's last day.</summary>
    /// <param name="day">The day of the month, 1 to 31.</param>
    /// <param name="timeZone">The time zone.</param>
    /// <returns>The calendar.</returns>
    public static BillingCalendar MonthlyOnDay(int day, TimeZoneInfo timeZone)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(day, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(day, 31);
        return new MonthlyCalendar(day, timeZone);
    }

    /// <summary>Billing on the last business day of every month, as the business calendar (weekends, holidays, time zone) defines it.</summary>
    /// <param name="calendar">The business calendar (shared with the release-window gate).</param>
    /// <returns>The calendar.</returns>
    public static BillingCalendar LastBusinessDayOfMonth(BusinessCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return new LastBusinessDayCalendar(calendar);
    }

    /// <summary>Billing on explicit local dates (a custom billing schedule).</summary>
    /// <param name="timeZone">The time zone.</param>
    /// <param name="dates">The billing dates; at least one.</param>
    /// <returns>The calendar.</returns>
    public static BillingCalendar OnDates(TimeZoneInfo timeZone, IEnumerable<DateOnly> dates)
    {
        ArgumentNullException.ThrowIfNull(dates);
        var set = new HashSet<DateOnly>(dates);
        if (set.Count == 0)
        {
            throw new ArgumentException("A custom billing calendar needs at least one billing date.", nameof(dates));
        }

        return new DatesCalendar(timeZone, set);
    }

    /// <summary>The start (local midnight) of the first billing day that starts at or after <paramref name="instant"/>.</summary>
    /// <param name="instant">The instant.</param>
    /// <returns>The start of the billing day.</returns>
    /// <exception cref="InvalidOperationException">No billing day within ten years (a custom calendar that ran out of dates).</exception>
    public DateTimeOffset NextBillingDayStart(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant, TimeZone);
        var date = DateOnly.FromDateTime(local.DateTime);
        if (local.TimeOfDay != TimeSpan.Zero || StartOf(date) < instant)
        {
            date = date.AddDays(1);
        }

        for (var i = 0; i < 3660; i++, date = date.AddDays(1))
        {
            if (IsBillingDay(date))
            {
                return StartOf(date);
            }
        }

        throw new InvalidOperationException($"The billing calendar has no billing day within ten years after {instant:O}.");
    }

    internal DateTimeOffset BillingDayEnd(DateTimeOffset billingDayStart)
    {
        var local = TimeZoneInfo.ConvertTime(billingDayStart, TimeZone);
        return StartOf(DateOnly.FromDateTime(local.DateTime).AddDays(1));
    }

    /// <summary>The instant of local midnight starting <paramref name="date"/> (the first valid local time when midnight is skipped).</summary>
    private DateTimeOffset StartOf(DateOnly date)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (TimeZone.IsInvalidTime(local))
        {
            local = local.AddMinutes(15);
        }

        return new DateTimeOffset(local, TimeZone.GetUtcOffset(local));
    }

    private sealed class MonthlyCalendar(int day, TimeZoneInfo timeZone) : BillingCalendar(timeZone)
    {
        public override bool IsBillingDay(DateOnly date) =>
            date.Day == Math.Min(day, DateTime.DaysInMonth(date.Year, date.Month));
    }

    private sealed class LastBusinessDayCalendar(BusinessCalendar calendar) : BillingCalendar(calendar.TimeZone)
    {
        public override bool IsBillingDay(DateOnly date)
        {
            if (!calendar.IsBusinessDay(date))
            {
                return false;
            }

            var last = new DateOnly(date.Year, date.Month, DateTime.DaysInMonth(date.Year, date.Month));
            for (var d = date.AddDays(1); d <= last; d = d.AddDays(1))
            {
                if (calendar.IsBusinessDay(d))
                {
                    return false;
                }
            }

            return true;
        }
    }

    private sealed class DatesCalendar(TimeZoneInfo timeZone, HashSet<DateOnly> dates) : BillingCalendar(timeZone)
    {
        public override bool IsBillingDay(DateOnly date) => dates.Contains(date);
    }
}
