using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;

namespace ReleaseKit.HealthCriteria.Tests;

public sealed class WindowTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    [Fact]
    public void First_hour_and_first_day_start_at_the_deploy()
    {
        var deploy = new DateTimeOffset(2025, 3, 14, 9, 30, 0, TimeSpan.Zero);
        Assert.Equal((deploy, deploy.AddHours(1)), (ReleaseWindow.FirstHour(deploy).Start, ReleaseWindow.FirstHour(deploy).End));
        Assert.Equal(deploy.AddDays(1), ReleaseWindow.FirstDay(deploy).End);
        var custom = ReleaseWindow.Custom("second-hour", deploy, TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        Assert.Equal((deploy.AddHours(1), deploy.AddHours(2)), (custom.Start, custom.End));
    }

    [Fact]
    public void A_monthly_billing_day_past_the_month_end_falls_on_its_last_day()
    {
        var calendar = BillingCalendar.MonthlyOnDay(31, TimeZoneInfo.Utc);
        var window = ReleaseWindow.FirstBillingCycle(new DateTimeOffset(2025, 2, 10, 10, 0, 0, TimeSpan.Zero), calendar);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero), window.End); // through the whole of Feb 28
    }

    [Fact]
    public void A_release_deployed_during_a_billing_day_is_judged_through_the_next_one()
    {
        var calendar = BillingCalendar.MonthlyOnDay(1, TimeZoneInfo.Utc);
        var window = ReleaseWindow.FirstBillingCycle(new DateTimeOffset(2025, 4, 1, 10, 0, 0, TimeSpan.Zero), calendar);
        Assert.Equal(new DateTimeOffset(2025, 5, 2, 0, 0, 0, TimeSpan.Zero), window.End);

        var atMidnight = ReleaseWindow.FirstBillingCycle(new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero), calendar);
        Assert.Equal(new DateTimeOffset(2025, 4, 2, 0, 0, 0, TimeSpan.Zero), atMidnight.End);
    }

    [Fact]
    public void The_last_business_day_uses_the_gates_business_calendar_with_its_holidays_and_time_zone()
    {
        // May 2025: the 31st is a Saturday, so Friday the 30th bills; declared a holiday, Thursday the 29th does.
        var deploy = new DateTimeOffset(2025, 5, 5, 8, 0, 0, TimeSpan.Zero);
        var plain = ReleaseWindow.FirstBillingCycle(deploy, BillingCalendar.LastBusinessDayOfMonth(new BusinessCalendar(Berlin)));
        Assert.Equal(new DateTimeOffset(2025, 5, 31, 0, 0, 0, TimeSpan.FromHours(2)), plain.End);

        var withHoliday = ReleaseWindow.FirstBillingCycle(deploy, BillingCalendar.LastBusinessDayOfMonth(new BusinessCalendar(Berlin, holidays: [new DateOnly(2025, 5, 30)])));
        Assert.Equal(new DateTimeOffset(2025, 5, 30, 0, 0, 0, TimeSpan.FromHours(2)), withHoliday.End);
    }

    [Fact]
    public void A_custom_billing_calendar_bills_on_its_dates()
    {
        var calendar = BillingCalendar.OnDates(TimeZoneInfo.Utc, [new DateOnly(2025, 6, 15), new DateOnly(2025, 7, 15)]);
        var window = ReleaseWindow.FirstBillingCycle(new DateTimeOffset(2025, 6, 20, 0, 0, 0, TimeSpan.Zero), calendar);
        Assert.Equal(new DateTimeOffset(2025, 7, 16, 0, 0, 0, TimeSpan.Zero), window.End);
    }

    [Fact]
    public void A_window_is_the_merge_of_its_slices_and_old_slices_are_compacted_hourly()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 6, 8, 0, 0, TimeSpan.Zero));
        using var monitor = new ReleaseHealthMonitor(Options.Create(new ReleaseHealthOptions()), time);
        var latency = monitor.Signal(ServiceLevelIndicators.RequestDuration);
        for (var minute = 0; minute < 8 * 60; minute++)
        {
            latency.Record(0.1 + (minute % 60 * 0.001));
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var firstHour = latency.Aggregate(monitor.DeployedAt, monitor.DeployedAt.AddHours(1)).Sketch!;
        var all = latency.Aggregate(monitor.DeployedAt, time.GetUtcNow()).Sketch!;
        Assert.Equal(60, firstHour.Count); // compacted into one hourly slice, still exactly the first hour
        Assert.Equal(480, all.Count);
        Assert.Equal(0.159, firstHour.GetQuantile(1), 0.159 * 0.01);
    }
}
