using System.Globalization;

namespace ReleaseKit.Gates;

/// <summary>
/// A rule that says which local dates and times of a <see cref="BusinessCalendar"/> are inside a window
/// ("the last 3 business days of the month", "the 2nd Tuesday", "Mon-Thu 09:00-16:00"). Create rules with the
/// static factories; combine them with <see cref="AllOf(IEnumerable{WindowRule})"/>.
/// </summary>
/// <remarks>
/// <para>Day rules cover the whole local day, from local midnight to the next local midnight (23 or 25 hours on a
/// daylight-saving day). Time-of-day rules compare the local wall clock: local times skipped when clocks go forward
/// never match, local times repeated when clocks go back match both times.</para>
/// <para>The factories do not throw for out-of-range values: options validation reports them at startup, naming the
/// option, and <see cref="BusinessCalendar.IsInWindow(DateTimeOffset, WindowRule)"/> throws for them.</para>
/// </remarks>
public abstract class WindowRule
{
    /// <summary>The largest count of business days a rule may name (the number of days of the longest month).</summary>
    internal const int MaxBusinessDays = 31;

    private protected WindowRule(string description) => Description = description;

    /// <summary>Gets a description of the rule for reports, for example <c>last 3 business days of the month</c>.</summary>
    public string Description { get; }

    /// <summary>
    /// The last <paramref name="count"/> business days of every month (1 to 31): the month's business days counted
    /// back from its end, so a holiday or weekend at the month's end moves the window earlier.
    /// </summary>
    /// <param name="count">How many business days (1 to 31; a month with fewer business days is covered whole).</param>
    /// <returns>The rule.</returns>
    public static WindowRule LastBusinessDaysOfMonth(int count) => new BusinessDaysOfMonthRule(count, fromEnd: true);

    /// <summary>The first <paramref name="count"/> business days of every month (1 to 31), counted from the 1st and skipping weekend days and holidays.</summary>
    /// <param name="count">How many business days (1 to 31).</param>
    /// <returns>The rule.</returns>
    public static WindowRule FirstBusinessDaysOfMonth(int count) => new BusinessDaysOfMonthRule(count, fromEnd: false);

    /// <summary>The <paramref name="occurrence"/>th <paramref name="dayOfWeek"/> of every month (for example the 2nd Tuesday), whole day. Holidays do not move it.</summary>
    /// <param name="occurrence">1 to 5; a month without a 5th such day has no match.</param>
    /// <param name="dayOfWeek">The day of the week.</param>
    /// <returns>The rule.</returns>
    public static WindowRule NthWeekdayOfMonth(int occurrence, DayOfWeek dayOfWeek) => new NthWeekdayRule(occurrence, dayOfWeek);

    /// <summary>The last <paramref name="dayOfWeek"/> of every month (for example the last Friday), whole day.</summary>
    /// <param name="dayOfWeek">The day of the week.</param>
    /// <returns>The rule.</returns>
    public static WindowRule LastWeekdayOfMonth(DayOfWeek dayOfWeek) => new NthWeekdayRule(NthWeekdayRule.Last, dayOfWeek);

    /// <summary>
    /// Local hours on days of the week: from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive).
    /// When <paramref name="from"/> is later than <paramref name="to"/> the window spans midnight and ends on the next day
    /// (Fri 22:00-02:00 ends Saturday 02:00; the listed day is the day it starts). <c>to</c> of 00:00 means until midnight.
    /// Equal times are rejected (use <see cref="DaysOfWeek(IEnumerable{DayOfWeek})"/> for whole days).
    /// </summary>
    /// <param name="days">The days the window starts on.</param>
    /// <param name="from">The local start time.</param>
    /// <param name="to">The local end time.</param>
    /// <returns>The rule.</returns>
    public static WindowRule WeeklyHours(IEnumerable<DayOfWeek> days, TimeOnly from, TimeOnly to)
    {
        ArgumentNullException.ThrowIfNull(days);
        var list = days.ToArray();
        return new WeeklyHoursRule(list, from, to, DescribeDays(list));
    }

    /// <summary>Local hours on a run of days of the week (Mon-Thu; Fri-Mon wraps over the weekend). See <see cref="WeeklyHours(IEnumerable{DayOfWeek}, TimeOnly, TimeOnly)"/>.</summary>
    /// <param name="firstDay">The first day of the run.</param>
    /// <param name="lastDay">The last day of the run.</param>
    /// <param name="from">The local start time.</param>
    /// <param name="to">The local end time.</param>
    /// <returns>The rule.</returns>
    public static WindowRule WeeklyHours(DayOfWeek firstDay, DayOfWeek lastDay, TimeOnly from, TimeOnly to) =>
        new WeeklyHoursRule(DayRun(firstDay, lastDay), from, to, firstDay == lastDay ? Abbreviate(firstDay) : $"{Abbreviate(firstDay)}-{Abbreviate(lastDay)}");

    /// <summary>Whole local days of the week (for example Friday, to deny Friday releases).</summary>
    /// <param name="days">The days.</param>
    /// <returns>The rule.</returns>
    public static WindowRule DaysOfWeek(params IEnumerable<DayOfWeek> days)
    {
        ArgumentNullException.ThrowIfNull(days);
        var list = days.ToArray();
        return new DaysOfWeekRule(list, DescribeDays(list));
    }

    /// <summary>Whole local dates.</summary>
    /// <param name="dates">The dates (at least one).</param>
    /// <returns>The rule.</returns>
    public static WindowRule Dates(params IEnumerable<DateOnly> dates)
    {
        ArgumentNullException.ThrowIfNull(dates);
        return new DatesRule([.. dates]);
    }

    /// <summary>A range of whole local dates, both ends included.</summary>
    /// <param name="first">The first date.</param>
    /// <param name="last">The last date (not before <paramref name="first"/>).</param>
    /// <returns>The rule.</returns>
    public static WindowRule DateRange(DateOnly first, DateOnly last) => new DateRangeRule(first, last);

    /// <summary>The calendar's holidays, whole days.</summary>
    /// <returns>The rule.</returns>
    public static WindowRule Holidays() => DayKindRule.HolidaysRule;

    /// <summary>The calendar's business days (not a weekend day, not a holiday), whole days.</summary>
    /// <returns>The rule.</returns>
    public static WindowRule BusinessDays() => DayKindRule.BusinessDaysRule;

    /// <summary>Days that are not business days (weekend days and holidays), whole days.</summary>
    /// <returns>The rule.</returns>
    public static WindowRule NonBusinessDays() => DayKindRule.NonBusinessDaysRule;

    /// <summary>
    /// The intersection of rules: an instant is inside when every rule covers it (for example the last Friday of the
    /// month from 18:00 to 22:00, or Mon-Fri 09:00-17:00 on business days only).
    /// </summary>
    /// <param name="rules">The rules (at least one).</param>
    /// <returns>The rule.</returns>
    public static WindowRule AllOf(params IEnumerable<WindowRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var list = rules.ToArray();
        foreach (var rule in list)
        {
            ArgumentNullException.ThrowIfNull(rule, nameof(rules));
        }

        return new AllOfRule(list);
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    /// <summary>Whether the rule covers a local date and wall-clock time.</summary>
    internal abstract bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time);

    /// <summary>Adds a message for each invalid parameter.</summary>
    internal abstract void Validate(List<string> problems);

    /// <summary>Adds the wall-clock times, other than midnight, at which the rule's verdict can change within a day.</summary>
    internal virtual void AddBoundaries(ISet<TimeOnly> times)
    {
    }

    internal static string Abbreviate(DayOfWeek day) =>
        Enum.IsDefined(day) ? day.ToString()[..3] : ((int)day).ToString(CultureInfo.InvariantCulture);

    internal static string Format(TimeOnly time) => time.ToString("HH:mm", CultureInfo.InvariantCulture);

    internal static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static void ValidateDays(string rule, DayOfWeek[] days, List<string> problems)
    {
        if (days.Length == 0)
        {
            problems.Add($"{rule}: no days of the week are given; name at least one (Sunday to Saturday).");
        }

        foreach (var day in days.Where(d => !Enum.IsDefined(d)))
        {
            problems.Add($"{rule}: day of week {(int)day} is unknown; allowed values are Sunday to Saturday.");
        }
    }

    private static string DescribeDays(IEnumerable<DayOfWeek> days) => string.Join(", ", days.Distinct().Select(Abbreviate));

    private static DayOfWeek[] DayRun(DayOfWeek first, DayOfWeek last)
    {
        if (!Enum.IsDefined(first) || !Enum.IsDefined(last))
        {
            return [first, last];
        }

        var run = new List<DayOfWeek> { first };
        for (var day = first; day != last;)
        {
            day = (DayOfWeek)(((int)day + 1) % 7);
            run.Add(day);
        }

        return [.. run];
    }
}

internal sealed class BusinessDaysOfMonthRule : WindowRule
{
    private readonly int _count;
    private readonly bool _fromEnd;

    internal BusinessDaysOfMonthRule(int count, bool fromEnd)
        : base($"{(fromEnd ? "last" : "first")} {count.ToString(CultureInfo.InvariantCulture)} business day{(count == 1 ? string.Empty : "s")} of the month")
    {
        _count = count;
        _fromEnd = fromEnd;
    }

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time) =>
        calendar.IsBusinessDay(date) && (_fromEnd ? calendar.BusinessDaysAfter(date) : calendar.BusinessDaysBefore(date)) < _count;

    internal override void Validate(List<string> problems)
    {
        if (_count is < 1 or > MaxBusinessDays)
        {
            problems.Add($"{(_fromEnd ? "LastBusinessDaysOfMonth" : "FirstBusinessDaysOfMonth")}: count is {_count}; allowed is 1 to {MaxBusinessDays}.");
        }
    }
}

internal sealed class NthWeekdayRule : WindowRule
{
    internal const int Last = -1;

    private readonly int _occurrence;
    private readonly DayOfWeek _dayOfWeek;

    internal NthWeekdayRule(int occurrence, DayOfWeek dayOfWeek)
        : base(Describe(occurrence, dayOfWeek))
    {
        _occurrence = occurrence;
        _dayOfWeek = dayOfWeek;
    }

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time) =>
        date.DayOfWeek == _dayOfWeek
        && (_occurrence == Last
            ? date.Day + 7 > DateTime.DaysInMonth(date.Year, date.Month)
            : ((date.Day - 1) / 7) + 1 == _occurrence);

    internal override void Validate(List<string> problems)
    {
        if (_occurrence is not (Last or (>= 1 and <= 5)))
        {
            problems.Add($"NthWeekdayOfMonth: occurrence is {_occurrence}; allowed is 1 to 5 (use LastWeekdayOfMonth for the last one).");
        }

        if (!Enum.IsDefined(_dayOfWeek))
        {
            problems.Add($"NthWeekdayOfMonth: day of week {(int)_dayOfWeek} is unknown; allowed values are Sunday to Saturday.");
        }
    }

    private static string Describe(int occurrence, DayOfWeek day)
    {
        var name = Enum.IsDefined(day) ? day.ToString() : ((int)day).ToString(CultureInfo.InvariantCulture);
        var ordinal = occurrence switch
        {
            Last => "last",
            1 => "1st",
            2 => "2nd",
            3 => "3rd",
            _ => $"{occurrence.ToString(CultureInfo.InvariantCulture)}th",
        };
        return $"{ordinal} {name} of the month";
    }
}

internal sealed class WeeklyHoursRule : WindowRule
{
    private readonly DayOfWeek[] _days;
    private readonly TimeOnly _from;
    private readonly TimeOnly _to;

    internal WeeklyHoursRule(DayOfWeek[] days, TimeOnly from, TimeOnly to, string daysText)
        : base($"{daysText} {Format(from)}-{Format(to)}{(from > to ? " (ends the next day)" : string.Empty)}")
    {
        _days = days;
        _from = from;
        _to = to;
    }

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time)
    {
        if (_from < _to)
        {
            return time >= _from && time < _to && _days.Contains(date.DayOfWeek);
        }

        // Spans midnight: the evening part on a listed day, the morning part on the day after a listed day.
        return (time >= _from && _days.Contains(date.DayOfWeek))
            || (time < _to && _days.Contains(date.AddDays(-1).DayOfWeek));
    }

    internal override void Validate(List<string> problems)
    {
        ValidateDays("WeeklyHours", _days, problems);
        if (_from == _to)
        {
            problems.Add($"WeeklyHours: from and to are both {Format(_from)}; a window needs different times (use DaysOfWeek for whole days; from later than to spans midnight).");
        }
    }

    internal override void AddBoundaries(ISet<TimeOnly> times)
    {
        times.Add(_from);
        times.Add(_to);
    }
}

internal sealed class DaysOfWeekRule : WindowRule
{
    private readonly DayOfWeek[] _days;

    internal DaysOfWeekRule(DayOfWeek[] days, string daysText)
        : base($"every {daysText}") => _days = days;

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time) => _days.Contains(date.DayOfWeek);

    internal override void Validate(List<string> problems) => ValidateDays("DaysOfWeek", _days, problems);
}

internal sealed class DatesRule : WindowRule
{
    private readonly HashSet<DateOnly> _dates;

    internal DatesRule(HashSet<DateOnly> dates)
        : base($"dates {string.Join(", ", dates.Order().Take(5).Select(Format))}{(dates.Count > 5 ? ", ..." : string.Empty)}") => _dates = dates;

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time) => _dates.Contains(date);

    internal override void Validate(List<string> problems)
    {
        if (_dates.Count == 0)
        {
            problems.Add("Dates: no dates are given; name at least one.");
        }
    }
}

internal sealed class DateRangeRule : WindowRule
{
    private readonly DateOnly _first;
    private readonly DateOnly _last;

    internal DateRangeRule(DateOnly first, DateOnly last)
        : base($"{Format(first)} to {Format(last)}")
    {
        _first = first;
        _last = last;
    }

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time) => date >= _first && date <= _last;

    internal override void Validate(List<string> problems)
    {
        if (_last < _first)
        {
            problems.Add($"DateRange: last ({Format(_last)}) is before first ({Format(_first)}).");
        }
    }
}

internal sealed class DayKindRule : WindowRule
{
    internal static readonly DayKindRule HolidaysRule = new("holidays", (c, d) => c.IsHoliday(d));
    internal static readonly DayKindRule BusinessDaysRule = new("business days", (c, d) => c.IsBusinessDay(d));
    internal static readonly DayKindRule NonBusinessDaysRule = new("non-business days", (c, d) => !c.IsBusinessDay(d));

    private readonly Func<BusinessCalendar, DateOnly, bool> _matches;

    private DayKindRule(string description, Func<BusinessCalendar, DateOnly, bool> matches)
        : base(description) => _matches = matches;

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time) => _matches(calendar, date);

    internal override void Validate(List<string> problems)
    {
    }
}

internal sealed class AllOfRule : WindowRule
{
    private readonly WindowRule[] _rules;

    internal AllOfRule(WindowRule[] rules)
        : base($"all of ({string.Join("; ", rules.Select(r => r.Description))})") => _rules = rules;

    internal override bool Matches(BusinessCalendar calendar, DateOnly date, TimeOnly time)
    {
        foreach (var rule in _rules)
        {
            if (!rule.Matches(calendar, date, time))
            {
                return false;
            }
        }

        return true;
    }

    internal override void Validate(List<string> problems)
    {
        if (_rules.Length == 0)
        {
            problems.Add("AllOf: no rules are given; name at least one.");
        }

        foreach (var rule in _rules)
        {
            rule.Validate(problems);
        }
    }

    internal override void AddBoundaries(ISet<TimeOnly> times)
    {
        foreach (var rule in _rules)
        {
            rule.AddBoundaries(times);
        }
    }
}
