using System.Globalization;

namespace ReleaseKit.Gates;

/// <summary>
/// A business calendar in one time zone: which local dates are business days (every day but the weekend days and
/// the holidays) and whether an instant falls inside a <see cref="WindowRule"/>, judged on the local date and wall-clock time.
/// </summary>
/// <remarks>
/// Rules see the local wall clock. A local time that does not exist (the hour skipped when clocks go forward) is
/// never observed, so a window inside that hour matches no instant that day; a local time that repeats (the hour
/// when clocks go back) is observed twice, so a window covering it matches both times.
/// </remarks>
public sealed class BusinessCalendar
{
    private static readonly DayOfWeek[] DefaultWeekend = [DayOfWeek.Saturday, DayOfWeek.Sunday];

    /// <summary>Creates a calendar.</summary>
    /// <param name="timeZone">The time zone whose local dates and times the rules are evaluated in.</param>
    /// <param name="weekendDays">The days of the week that are never business days; Saturday and Sunday when <see langword="null"/>.</param>
    /// <param name="holidays">Local dates that are not business days.</param>
    /// <exception cref="ArgumentException">Every day of the week is a weekend day, or a day is not a defined <see cref="DayOfWeek"/>.</exception>
    public BusinessCalendar(TimeZoneInfo timeZone, IEnumerable<DayOfWeek>? weekendDays = null, IEnumerable<DateOnly>? holidays = null)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        var weekend = new HashSet<DayOfWeek>(weekendDays ?? DefaultWeekend);
        foreach (var day in weekend)
        {
            if (!Enum.IsDefined(day))
            {
                throw new ArgumentOutOfRangeException(nameof(weekendDays), day, "Weekend days must be Sunday to Saturday.");
            }
        }

        if (weekend.Count == 7)
        {
            throw new ArgumentException("Every day of the week is a weekend day, so the calendar has no business days.", nameof(weekendDays));
        }

        TimeZone = timeZone;
        WeekendDays = weekend;
        Holidays = new HashSet<DateOnly>(holidays ?? []);
    }

    /// <summary>Gets the time zone the calendar's local dates and times are in.</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>Gets the days of the week that are never business days.</summary>
    public IReadOnlySet<DayOfWeek> WeekendDays { get; }

    /// <summary>Gets the local dates that are not business days.</summary>
    public IReadOnlySet<DateOnly> Holidays { get; }

    /// <summary>Creates a calendar in the time zone with the given id.</summary>
    /// <param name="timeZoneId">An IANA time zone id such as <c>Europe/Berlin</c> (Windows ids work where the system can convert them).</param>
    /// <param name="weekendDays">The weekend days; Saturday and Sunday when <see langword="null"/>.</param>
    /// <param name="holidays">Local dates that are not business days.</param>
    /// <returns>The calendar.</returns>
    /// <exception cref="ArgumentException">The time zone is unknown, or the weekend days are invalid.</exception>
    public static BusinessCalendar ForTimeZone(string timeZoneId, IEnumerable<DayOfWeek>? weekendDays = null, IEnumerable<DateOnly>? holidays = null)
    {
        ArgumentNullException.ThrowIfNull(timeZoneId);
        if (!TryFindTimeZone(timeZoneId, out var timeZone, out var error))
        {
            throw new ArgumentException(error, nameof(timeZoneId));
        }

        return new BusinessCalendar(timeZone, weekendDays, holidays);
    }

    /// <summary>Whether a local date is one of the calendar's holidays.</summary>
    /// <param name="date">The local date.</param>
    /// <returns><see langword="true"/> for a holiday.</returns>
    public bool IsHoliday(DateOnly date) => Holidays.Contains(date);

    /// <summary>Whether a local date is a business day: not a weekend day and not a holiday.</summary>
    /// <param name="date">The local date.</param>
    /// <returns><see langword="true"/> for a business day.</returns>
    public bool IsBusinessDay(DateOnly date) => !WeekendDays.Contains(date.DayOfWeek) && !Holidays.Contains(date);

    /// <summary>Converts an instant to the calendar's local time.</summary>
    /// <param name="instant">The instant.</param>
    /// <returns>The local time, with the zone's offset at that instant.</returns>
    public DateTimeOffset ToLocalTime(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, TimeZone);

    /// <summary>Whether an instant is inside a window rule, judged on the calendar's local date and wall-clock time.</summary>
    /// <param name="instant">The instant.</param>
    /// <param name="rule">The rule.</param>
    /// <returns><see langword="true"/> when the rule covers the instant.</returns>
    /// <exception cref="ArgumentException">The rule is invalid (for example a count out of range); the message says what is wrong.</exception>
    public bool IsInWindow(DateTimeOffset instant, WindowRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var problems = new List<string>();
        rule.Validate(problems);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid window rule {rule}: {string.Join("; ", problems)}", nameof(rule));
        }

        return Matches(rule, instant);
    }

    internal bool Matches(WindowRule rule, DateTimeOffset instant)
    {
        var local = ToLocalTime(instant).DateTime;
        return rule.Matches(this, DateOnly.FromDateTime(local), TimeOnly.FromDateTime(local));
    }

    /// <summary>The number of business days of <paramref name="date"/>'s month strictly before it.</summary>
    internal int BusinessDaysBefore(DateOnly date)
    {
        var count = 0;
        for (var day = new DateOnly(date.Year, date.Month, 1); day < date; day = day.AddDays(1))
        {
            if (IsBusinessDay(day))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The number of business days of <paramref name="date"/>'s month strictly after it.</summary>
    internal int BusinessDaysAfter(DateOnly date)
    {
        var count = 0;
        var last = new DateOnly(date.Year, date.Month, DateTime.DaysInMonth(date.Year, date.Month));
        for (var day = date.AddDays(1); day <= last; day = day.AddDays(1))
        {
            if (IsBusinessDay(day))
            {
                count++;
            }
        }

        return count;
    }

    internal string FormatLocal(DateTimeOffset instant) =>
        ToLocalTime(instant).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    internal static bool TryFindTimeZone(string timeZoneId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TimeZoneInfo? timeZone, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        timeZone = null;
        error = null;
        if (string.IsNullOrWhiteSpace(timeZoneId))
        {
            error = "A time zone id is required: an IANA id such as Europe/Berlin, America/New_York or UTC.";
            return false;
        }

        try
        {
            timeZone = TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            error = $"Time zone '{timeZoneId}' is not known to this system ({ex.Message}). Use an IANA id such as Europe/Berlin, America/New_York or UTC (on a minimal container, install the tzdata package).";
            return false;
        }
    }
}
