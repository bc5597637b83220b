using System.Globalization;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// A span of time a release is judged over, relative to its deploy time: the first hour, the first day, the first
/// billing cycle or a custom span. Windows are half-open: <c>[Start, End)</c>.
/// </summary>
public sealed class ReleaseWindow
{
    /// <summary>The name of <see cref="FirstHour(DateTimeOffset)"/>.</summary>
    public const string FirstHourName = "first-hour";

    /// <summary>The name of <see cref="FirstDay(DateTimeOffset)"/>.</summary>
    public const string FirstDayName = "first-day";

    /// <summary>The name of <see cref="FirstBillingCycle(DateTimeOffset, BillingCalendar)"/>.</summary>
    public const string FirstBillingCycleName = "first-billing-cycle";

    /// <summary>Creates a window.</summary>
    /// <param name="name">The window's name (reports and telemetry use it).</param>
    /// <param name="start">The first instant in the window.</param>
    /// <param name="end">The first instant after the window; after <paramref name="start"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="end"/> is not after <paramref name="start"/>.</exception>
    public ReleaseWindow(string name, DateTimeOffset start, DateTimeOffset end)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (end <= start)
        {
            throw new ArgumentOutOfRangeException(nameof(end), end, $"The window '{name}' must end after it starts ({start.ToString("O", CultureInfo.InvariantCulture)}).");
        }

        Name = name;
        Start = start;
        End = end;
    }

    /// <summary>Gets the window's name.</summary>
    public string Name { get; }

    /// <summary>Gets the first instant in the window.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>Gets the first instant after the window.</summary>
    public DateTimeOffset End { get; }

    /// <summary>Gets the window's length.</summary>
    public TimeSpan Length => End - Start;

    /// <summary>The first hour after the deploy.</summary>
    /// <param name="deployedAt">The release's deploy time.</param>
    /// <returns>The window.</returns>
    public static ReleaseWindow FirstHour(DateTimeOffset deployedAt) => new(FirstHourName, deployedAt, deployedAt.AddHours(1));

    /// <summary>The first 24 hours after the deploy.</summary>
    /// <param name="deployedAt">The release's deploy time.</param>
    /// <returns>The window.</returns>
    public static ReleaseWindow FirstDay(DateTimeOffset deployedAt) => new(FirstDayName, deployedAt, deployedAt.AddDays(1));

    /// <summary>
    /// From the deploy to the end of the first billing day that starts at or after the deploy, so the window holds one
    /// whole billing run. A release deployed during a billing day is judged through the next one.
    /// </summary>
    /// <param name="deployedAt">The release's deploy time.</param>
    /// <param name="calendar">The billing calendar.</param>
    /// <returns>The window.</returns>
    public static ReleaseWindow FirstBillingCycle(DateTimeOffset deployedAt, BillingCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var billingDay = calendar.NextBillingDayStart(deployedAt);
        return new(FirstBillingCycleName, deployedAt, calendar.BillingDayEnd(billingDay));
    }

    /// <summary>A custom span relative to the deploy.</summary>
    /// <param name="name">The window's name.</param>
    /// <param name="deployedAt">The release's deploy time.</param>
    /// <param name="offset">How long after the deploy the window starts (zero or more).</param>
    /// <param name="length">The window's length (positive).</param>
    /// <returns>The window.</returns>
    public static ReleaseWindow Custom(string name, DateTimeOffset deployedAt, TimeSpan offset, TimeSpan length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(offset, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(length, TimeSpan.Zero);
        return new(name, deployedAt + offset, deployedAt + offset + length);
    }

    /// <summary>Whether the window has ended at <paramref name="now"/>.</summary>
    /// <param name="now">The current time.</param>
    /// <returns><see langword="true"/> when <paramref name="now"/> is at or after <see cref="End"/>.</returns>
    public bool IsComplete(DateTimeOffset now) => now >= End;

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} [{Start:O}, {End:O})");
}
