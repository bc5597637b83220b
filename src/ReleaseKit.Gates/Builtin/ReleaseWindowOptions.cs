using System.Globalization;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>
/// Options of the release window gate: a business calendar (time zone, weekend days, holidays), the windows in which
/// a release is allowed or denied, and an optional recorded override.
/// </summary>
/// <remarks>
/// A deny window always wins. With no allow windows a release is allowed unless a deny window covers the moment;
/// with allow windows it is allowed only inside one of them (and outside every deny window).
/// </remarks>
public sealed class ReleaseWindowOptions
{
    /// <summary>The default of <see cref="MaxOverrideDuration"/>: 24 hours.</summary>
    public static readonly TimeSpan DefaultMaxOverrideDuration = TimeSpan.FromHours(24);

    /// <summary>Gets or sets the IANA time zone id the windows are evaluated in (for example <c>Europe/Berlin</c>). Required.</summary>
    public string? TimeZoneId { get; set; }

    /// <summary>Gets the days of the week that are not business days. Saturday and Sunday by default; clear it and add others for a different weekend.</summary>
    public ISet<DayOfWeek> WeekendDays { get; } = new HashSet<DayOfWeek> { DayOfWeek.Saturday, DayOfWeek.Sunday };

    /// <summary>Gets the local dates that are not business days.</summary>
    public ISet<DateOnly> Holidays { get; } = new HashSet<DateOnly>();

    /// <summary>Gets the windows in which a release is allowed. When empty, a release is allowed whenever no deny window covers the moment.</summary>
    public IList<CalendarWindow> AllowWindows { get; } = [];

    /// <summary>Gets the windows in which a release is denied. A deny window wins over every allow window.</summary>
    public IList<CalendarWindow> DenyWindows { get; } = [];

    /// <summary>Gets or sets a recorded override that turns the gate's failure into a warning until it expires.</summary>
    public ReleaseWindowOverride? Override { get; set; }

    /// <summary>Gets or sets how far in the future an override's <see cref="ReleaseWindowOverride.Until"/> may lie when it is validated (more than zero, at most 7 days). Default 24 hours.</summary>
    public TimeSpan MaxOverrideDuration { get; set; } = DefaultMaxOverrideDuration;

    /// <summary>Adds an allow window.</summary>
    /// <param name="name">The window's name, shown in reports.</param>
    /// <param name="rule">The rule.</param>
    /// <returns>These options.</returns>
    public ReleaseWindowOptions Allow(string name, WindowRule rule)
    {
        AllowWindows.Add(new CalendarWindow(name, rule));
        return this;
    }

    /// <summary>Adds a deny window.</summary>
    /// <param name="name">The window's name, shown in reports (for example <c>month-end close</c>).</param>
    /// <param name="rule">The rule.</param>
    /// <returns>These options.</returns>
    public ReleaseWindowOptions Deny(string name, WindowRule rule)
    {
        DenyWindows.Add(new CalendarWindow(name, rule));
        return this;
    }

    /// <summary>Adds holidays.</summary>
    /// <param name="dates">The local dates.</param>
    /// <returns>These options.</returns>
    public ReleaseWindowOptions AddHolidays(params IEnumerable<DateOnly> dates)
    {
        ArgumentNullException.ThrowIfNull(dates);
        foreach (var date in dates)
        {
            Holidays.Add(date);
        }

        return this;
    }

    /// <summary>Records an override: who allowed the release outside its windows, why, and until when.</summary>
    /// <param name="by">Who recorded the override.</param>
    /// <param name="reason">Why.</param>
    /// <param name="until">When it expires (at most <see cref="MaxOverrideDuration"/> from now).</param>
    /// <returns>These options.</returns>
    public ReleaseWindowOptions RecordOverride(string by, string reason, DateTimeOffset until)
    {
        Override = new ReleaseWindowOverride { By = by, Reason = reason, Until = until };
        return this;
    }

    internal BusinessCalendar CreateCalendar() => BusinessCalendar.ForTimeZone(TimeZoneId ?? string.Empty, WeekendDays, Holidays);
}

/// <summary>A named <see cref="WindowRule"/>.</summary>
public sealed class CalendarWindow
{
    /// <summary>Creates a named window.</summary>
    /// <param name="name">The window's name, shown in reports.</param>
    /// <param name="rule">The rule.</param>
    public CalendarWindow(string name, WindowRule rule)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(rule);
        Name = name;
        Rule = rule;
    }

    /// <summary>Gets the window's name.</summary>
    public string Name { get; }

    /// <summary>Gets the rule.</summary>
    public WindowRule Rule { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Rule.Description})";
}

/// <summary>
/// A recorded decision to release outside the allowed windows: who, why and until when. While it is valid the release
/// window gate reports <see cref="Verdict.Warn"/> instead of <see cref="Verdict.Fail"/>, with the override as evidence.
/// </summary>
public sealed class ReleaseWindowOverride
{
    /// <summary>Gets or sets who recorded the override. Required.</summary>
    public string? By { get; set; }

    /// <summary>Gets or sets why. Required.</summary>
    public string? Reason { get; set; }

    /// <summary>Gets or sets when the override expires. Required; an override whose time has passed is ignored.</summary>
    public DateTimeOffset? Until { get; set; }
}

/// <summary>Fails startup on invalid release window options, naming the option and the allowed values.</summary>
internal sealed class ReleaseWindowOptionsValidator(TimeProvider timeProvider) : IValidateOptions<ReleaseWindowOptions>
{
    internal static readonly TimeSpan MaxOverrideDurationLimit = TimeSpan.FromDays(7);

    public ValidateOptionsResult Validate(string? name, ReleaseWindowOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var gate = $"Gate '{name}'";
        var failures = new List<string>();

        if (!BusinessCalendar.TryFindTimeZone(options.TimeZoneId ?? string.Empty, out _, out var zoneError))
        {
            failures.Add($"{gate}: TimeZoneId: {zoneError}");
        }

        foreach (var day in options.WeekendDays.Where(d => !Enum.IsDefined(d)))
        {
            failures.Add($"{gate}: WeekendDays contains {(int)day}; allowed values are Sunday to Saturday.");
        }

        if (options.WeekendDays.Count(Enum.IsDefined) == 7)
        {
            failures.Add($"{gate}: WeekendDays names all seven days, so there are no business days; name at most six.");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        ValidateWindows(gate, nameof(ReleaseWindowOptions.AllowWindows), options.AllowWindows, names, failures);
        ValidateWindows(gate, nameof(ReleaseWindowOptions.DenyWindows), options.DenyWindows, names, failures);

        if (options.MaxOverrideDuration <= TimeSpan.Zero || options.MaxOverrideDuration > MaxOverrideDurationLimit)
        {
            failures.Add($"{gate}: MaxOverrideDuration is {options.MaxOverrideDuration}; allowed is more than zero and at most {MaxOverrideDurationLimit}.");
        }

        if (options.Override is { } o)
        {
            if (string.IsNullOrWhiteSpace(o.By))
            {
                failures.Add($"{gate}: Override.By is empty; an override must say who recorded it.");
            }

            if (string.IsNullOrWhiteSpace(o.Reason))
            {
                failures.Add($"{gate}: Override.Reason is empty; an override must say why the release may go out of its window.");
            }

            if (o.Until is not { } until)
            {
                failures.Add($"{gate}: Override.Until is missing; an override must say when it expires (at most MaxOverrideDuration, {options.MaxOverrideDuration}, from now).");
            }
            else if (until - timeProvider.GetUtcNow() > options.MaxOverrideDuration)
            {
                failures.Add($"{gate}: Override.Until is {until.ToString("O", CultureInfo.InvariantCulture)}, more than MaxOverrideDuration ({options.MaxOverrideDuration}) from now; record a shorter override or raise MaxOverrideDuration (at most {MaxOverrideDurationLimit}).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateWindows(string gate, string property, IList<CalendarWindow> windows, HashSet<string> names, List<string> failures)
    {
        for (var i = 0; i < windows.Count; i++)
        {
            var window = windows[i];
            var where = $"{gate}: {property}[{i.ToString(CultureInfo.InvariantCulture)}]";
            if (window is null)
            {
                failures.Add($"{where} is null.");
                continue;
            }

            where += $" ('{window.Name}')";
            if (string.IsNullOrWhiteSpace(window.Name))
            {
                failures.Add($"{where}: the name is empty; every window needs a name for reports.");
            }
            else if (!names.Add(window.Name))
            {
                failures.Add($"{where}: the name is used by another window (names are case-insensitive, across AllowWindows and DenyWindows).");
            }

            var problems = new List<string>();
            window.Rule.Validate(problems);
            failures.AddRange(problems.Select(problem => $"{where}: {problem}"));
        }
    }
}
