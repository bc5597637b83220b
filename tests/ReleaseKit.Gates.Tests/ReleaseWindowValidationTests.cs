using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class ReleaseWindowValidationTests
{
    private static readonly DateTimeOffset Now = BusinessCalendarTests.Local(2028, 2, 28, 10, 0);

    [Fact]
    public void A_valid_configuration_passes_startup_validation()
    {
        var error = StartupError(o => o
            .Allow("business hours", WindowRule.WeeklyHours(DayOfWeek.Monday, DayOfWeek.Thursday, new TimeOnly(9, 0), new TimeOnly(16, 0)))
            .Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3))
            .RecordOverride("alice", "hotfix", Now.AddHours(24)));

        Assert.Null(error);
    }

    [Fact]
    public void An_unknown_time_zone_is_a_startup_error_naming_the_option_and_the_id()
    {
        var error = StartupError(_ => { }, timeZoneId: "Europe/Atlantis");

        Assert.NotNull(error);
        Assert.Contains("Gate 'release-window': TimeZoneId", error, StringComparison.Ordinal);
        Assert.Contains("'Europe/Atlantis'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_time_zone_is_a_startup_error()
    {
        var error = StartupError(_ => { }, timeZoneId: null);

        Assert.NotNull(error);
        Assert.Contains("TimeZoneId", error, StringComparison.Ordinal);
        Assert.Contains("Europe/Berlin", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(-3)]
    public void A_business_day_count_out_of_range_is_a_startup_error_naming_the_window(int count)
    {
        var error = StartupError(o => o.Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(count)));

        Assert.NotNull(error);
        Assert.Contains("DenyWindows[0] ('month-end close')", error, StringComparison.Ordinal);
        Assert.Contains($"count is {count}; allowed is 1 to 31", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_occurrence_out_of_range_is_a_startup_error()
    {
        var error = StartupError(o => o.Allow("patch day", WindowRule.NthWeekdayOfMonth(6, DayOfWeek.Tuesday)));

        Assert.NotNull(error);
        Assert.Contains("AllowWindows[0] ('patch day')", error, StringComparison.Ordinal);
        Assert.Contains("occurrence is 6; allowed is 1 to 5", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Weekly_hours_with_equal_times_and_no_days_are_startup_errors()
    {
        var error = StartupError(o => o.Allow("nothing", WindowRule.WeeklyHours([], new TimeOnly(9, 0), new TimeOnly(9, 0))));

        Assert.NotNull(error);
        Assert.Contains("from and to are both 09:00", error, StringComparison.Ordinal);
        Assert.Contains("no days of the week", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reversed_date_range_and_empty_names_are_startup_errors()
    {
        var error = StartupError(o => o
            .Deny(" ", WindowRule.DateRange(new DateOnly(2028, 12, 31), new DateOnly(2028, 12, 20))));

        Assert.NotNull(error);
        Assert.Contains("the name is empty", error, StringComparison.Ordinal);
        Assert.Contains("last (2028-12-20) is before first (2028-12-31)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Window_names_must_be_unique_across_allow_and_deny()
    {
        var error = StartupError(o => o
            .Allow("Freeze", WindowRule.BusinessDays())
            .Deny("freeze", WindowRule.Holidays()));

        Assert.NotNull(error);
        Assert.Contains("DenyWindows[0] ('freeze'): the name is used by another window", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_override_with_an_empty_reason_is_a_startup_error()
    {
        var error = StartupError(o => o.RecordOverride("alice", "  ", Now.AddHours(1)));

        Assert.NotNull(error);
        Assert.Contains("Override.Reason is empty", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_override_without_who_or_until_is_a_startup_error()
    {
        var error = StartupError(o => o.Override = new ReleaseWindowOverride { Reason = "hotfix" });

        Assert.NotNull(error);
        Assert.Contains("Override.By is empty", error, StringComparison.Ordinal);
        Assert.Contains("Override.Until is missing", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_override_longer_than_the_maximum_is_a_startup_error()
    {
        var tooLong = StartupError(o => o.RecordOverride("alice", "hotfix", Now.AddHours(25)));
        var raised = StartupError(o =>
        {
            o.MaxOverrideDuration = TimeSpan.FromHours(48);
            o.RecordOverride("alice", "hotfix", Now.AddHours(25));
        });

        Assert.NotNull(tooLong);
        Assert.Contains("more than MaxOverrideDuration (1.00:00:00)", tooLong, StringComparison.Ordinal);
        Assert.Null(raised);
    }

    [Fact]
    public void A_maximum_override_duration_out_of_range_is_a_startup_error()
    {
        var error = StartupError(o => o.MaxOverrideDuration = TimeSpan.FromDays(30));

        Assert.NotNull(error);
        Assert.Contains("MaxOverrideDuration is 30.00:00:00", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weekend_of_seven_days_is_a_startup_error()
    {
        var error = StartupError(o =>
        {
            foreach (var day in Enum.GetValues<DayOfWeek>())
            {
                o.WeekendDays.Add(day);
            }
        });

        Assert.NotNull(error);
        Assert.Contains("WeekendDays names all seven days", error, StringComparison.Ordinal);
    }

    private static string? StartupError(Action<ReleaseWindowOptions> configure, string? timeZoneId = "Europe/Berlin")
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        services.AddReleaseKit().AddGates(g => g.AddReleaseWindowGate(o =>
        {
            o.TimeZoneId = timeZoneId;
            configure(o);
        }));
        using var provider = services.BuildServiceProvider();
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return ex.Message;
        }
    }
}
