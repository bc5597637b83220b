using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class ReleaseWindowGateTests
{
    private static readonly TimeOnly Nine = new(9, 0);
    private static readonly TimeOnly Five = new(17, 0);

    [Fact]
    public async Task Deny_window_wins_over_allow_window()
    {
        // Monday 2028-02-28 10:00 Berlin: business hours, but one of the last 3 business days of February.
        var time = new FakeTimeProvider(BusinessCalendarTests.Local(2028, 2, 28, 10, 0));
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Allow("business hours", WindowRule.WeeklyHours(DayOfWeek.Monday, DayOfWeek.Friday, Nine, Five))
            .Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3)));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("month-end close", result.Reason, StringComparison.Ordinal);
        Assert.Equal("business hours", ReleaseWindowTestKit.Evidence(result, "allow_windows"));
        Assert.Equal("month-end close", ReleaseWindowTestKit.Evidence(result, "deny_windows"));
        Assert.Equal("2028-03-01T09:00:00+01:00", ReleaseWindowTestKit.Evidence(result, "next_allowed"));
    }

    [Fact]
    public async Task Without_allow_windows_a_release_is_allowed_unless_denied()
    {
        var time = new FakeTimeProvider(BusinessCalendarTests.Local(2028, 2, 23, 10, 0));
        using var services = ReleaseWindowTestKit.Build(time, o => o.Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3)));

        var before = await ReleaseWindowTestKit.EvaluateAsync(services, time);
        time.SetUtcNow(BusinessCalendarTests.Local(2028, 2, 25, 10, 0));
        var inside = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Pass, before.Verdict);
        Assert.Equal("(none)", ReleaseWindowTestKit.Evidence(before, "deny_windows"));
        Assert.Equal("2028-02-25T00:00:00+01:00", ReleaseWindowTestKit.Evidence(before, "allowed_until"));
        Assert.Equal(Verdict.Fail, inside.Verdict);
        Assert.Null(ReleaseWindowTestKit.Evidence(inside, "allow_windows"));
    }

    [Fact]
    public async Task With_allow_windows_a_release_outside_all_of_them_fails_and_says_when_it_may_go()
    {
        var time = new FakeTimeProvider(BusinessCalendarTests.Local(2028, 6, 3, 11, 0)); // Saturday
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Allow("weekday mornings", WindowRule.WeeklyHours(DayOfWeek.Monday, DayOfWeek.Thursday, Nine, new TimeOnly(12, 0)))
            .Allow("patch tuesday", WindowRule.NthWeekdayOfMonth(2, DayOfWeek.Tuesday)));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("outside every allow window", result.Reason, StringComparison.Ordinal);
        Assert.Equal("(none)", ReleaseWindowTestKit.Evidence(result, "allow_windows"));
        Assert.Equal("2028-06-05T09:00:00+02:00", ReleaseWindowTestKit.Evidence(result, "next_allowed"));
    }

    [Fact]
    public async Task Inside_an_allow_window_the_gate_passes_with_local_time_zone_and_window_names_as_evidence()
    {
        var time = new FakeTimeProvider(BusinessCalendarTests.Local(2028, 6, 13, 10, 0)); // 2nd Tuesday of June 2028
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Allow("weekday mornings", WindowRule.WeeklyHours(DayOfWeek.Monday, DayOfWeek.Thursday, Nine, new TimeOnly(12, 0)))
            .Allow("patch tuesday", WindowRule.NthWeekdayOfMonth(2, DayOfWeek.Tuesday)));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Equal("2028-06-13T10:00:00+02:00", ReleaseWindowTestKit.Evidence(result, "local_time"));
        Assert.Equal("Europe/Berlin", ReleaseWindowTestKit.Evidence(result, "time_zone"));
        Assert.Equal("weekday mornings, patch tuesday", ReleaseWindowTestKit.Evidence(result, "allow_windows"));
        Assert.Equal("2028-06-14T00:00:00+02:00", ReleaseWindowTestKit.Evidence(result, "allowed_until")); // patch tuesday outlasts the mornings window
    }

    [Fact]
    public async Task Next_allowed_time_lands_on_the_jump_of_the_spring_forward_gap()
    {
        var time = new FakeTimeProvider(BusinessCalendarTests.Utc("2028-03-26T00:30:00Z")); // 01:30 CET
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Allow("sunday night", WindowRule.WeeklyHours([DayOfWeek.Sunday], new TimeOnly(2, 30), new TimeOnly(4, 0))));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("2028-03-26T03:00:00+02:00", ReleaseWindowTestKit.Evidence(result, "next_allowed"));
    }

    [Fact]
    public async Task Next_allowed_time_is_the_fall_back_when_the_repeated_hour_reopens_a_window()
    {
        // 2028-10-29 Berlin: 00:45 UTC is 02:45 CEST, after the window; at 01:00 UTC the clock goes back to 02:00 CET, inside it again.
        var time = new FakeTimeProvider(BusinessCalendarTests.Utc("2028-10-29T00:45:00Z"));
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Allow("early sunday", WindowRule.WeeklyHours([DayOfWeek.Sunday], new TimeOnly(0, 0), new TimeOnly(2, 30))));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("2028-10-29T02:00:00+01:00", ReleaseWindowTestKit.Evidence(result, "next_allowed"));
    }

    [Fact]
    public async Task Next_allowed_time_skips_holidays_weekends_and_the_month_end_freeze()
    {
        var time = new FakeTimeProvider(BusinessCalendarTests.Local(2027, 12, 28, 10, 0));
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .AddHolidays(new DateOnly(2027, 12, 31), new DateOnly(2028, 1, 3))
            .Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3))
            .Deny("closed days", WindowRule.NonBusinessDays()));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("2028-01-04T00:00:00+01:00", ReleaseWindowTestKit.Evidence(result, "next_allowed"));
    }

    [Fact]
    public async Task A_valid_override_turns_the_failure_into_a_warning_with_the_override_as_evidence()
    {
        var now = BusinessCalendarTests.Local(2028, 2, 28, 10, 0);
        var time = new FakeTimeProvider(now);
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3))
            .RecordOverride("alice", "INC-4711 hotfix for invoice export", now.AddHours(4)));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Warn, result.Verdict);
        Assert.Contains("alice", result.Reason, StringComparison.Ordinal);
        Assert.Contains("month-end close", result.Reason, StringComparison.Ordinal);
        Assert.Equal("alice", ReleaseWindowTestKit.Evidence(result, "override_by"));
        Assert.Equal("INC-4711 hotfix for invoice export", ReleaseWindowTestKit.Evidence(result, "override_reason"));
        Assert.Equal("2028-02-28T14:00:00+01:00", ReleaseWindowTestKit.Evidence(result, "override_until"));
    }

    [Fact]
    public async Task An_expired_override_is_ignored_and_the_evidence_says_so()
    {
        var now = BusinessCalendarTests.Local(2028, 2, 28, 10, 0);
        var time = new FakeTimeProvider(now);
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3))
            .RecordOverride("alice", "INC-4711 hotfix for invoice export", now.AddHours(4)));
        _ = services.GetRequiredService<IOptionsMonitor<ReleaseWindowOptions>>().Get("release-window"); // validated while still valid

        time.Advance(TimeSpan.FromHours(4));
        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Null(ReleaseWindowTestKit.Evidence(result, "override_by"));
        Assert.Contains("expired at 2028-02-28T14:00:00+01:00", ReleaseWindowTestKit.Evidence(result, "override_ignored"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_override_does_not_change_a_passing_verdict()
    {
        var now = BusinessCalendarTests.Local(2028, 2, 22, 10, 0);
        var time = new FakeTimeProvider(now);
        using var services = ReleaseWindowTestKit.Build(time, o => o
            .Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3))
            .RecordOverride("alice", "hotfix", now.AddHours(1)));

        var result = await ReleaseWindowTestKit.EvaluateAsync(services, time);

        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Null(ReleaseWindowTestKit.Evidence(result, "override_by"));
    }

    [Fact]
    public async Task The_registered_gate_runs_in_the_promotion_stage_under_its_name()
    {
        var time = new FakeTimeProvider(BusinessCalendarTests.Local(2028, 2, 28, 10, 0));
        using var services = ReleaseWindowTestKit.Build(time, o => o.Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3)), name: "prod-window");
        var runner = services.GetRequiredService<IReleaseGateRunner>();

        var promotion = await runner.RunAsync(new GateRunRequest { Manifest = ReleaseWindowTestKit.Manifest, EnvironmentName = "production" }, TestContext.Current.CancellationToken);
        var startup = await runner.RunAsync(new GateRunRequest { Manifest = ReleaseWindowTestKit.Manifest, EnvironmentName = "production", Stages = [GateStage.Startup] }, TestContext.Current.CancellationToken);

        var entry = Assert.Single(promotion.Entries);
        Assert.Equal("prod-window", entry.Name);
        Assert.Equal(GateStage.Promotion, entry.Stage);
        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Empty(startup.Entries);
    }

    [Fact]
    public async Task Two_release_window_gates_read_their_own_named_options()
    {
        var time = new FakeTimeProvider(BusinessCalendarTests.Local(2028, 2, 28, 10, 0));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddReleaseKit().AddGates(g => g
            .AddReleaseWindowGate(o => { o.TimeZoneId = "Europe/Berlin"; o.Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(3)); }, name: "berlin")
            .AddReleaseWindowGate(o => { o.TimeZoneId = "America/New_York"; o.Deny("month-end close", WindowRule.LastBusinessDaysOfMonth(1)); }, name: "new-york"));
        using var provider = services.BuildServiceProvider();

        var berlin = await ReleaseWindowTestKit.EvaluateAsync(provider, time, "berlin");
        var newYork = await ReleaseWindowTestKit.EvaluateAsync(provider, time, "new-york");

        Assert.Equal(Verdict.Fail, berlin.Verdict);
        Assert.Equal(Verdict.Pass, newYork.Verdict);
        Assert.Equal("2028-02-28T04:00:00-05:00", ReleaseWindowTestKit.Evidence(newYork, "local_time"));
    }
}

internal static class ReleaseWindowTestKit
{
    public static readonly ReleaseManifest Manifest = new() { ReleaseId = "r-1", Version = "1.0.0" };

    public static ServiceProvider Build(TimeProvider time, Action<ReleaseWindowOptions> configure, string name = "release-window", string timeZoneId = "Europe/Berlin")
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddReleaseKit().AddGates(g => g.AddReleaseWindowGate(
            o =>
            {
                o.TimeZoneId = timeZoneId;
                configure(o);
            },
            name));
        return services.BuildServiceProvider(validateScopes: true);
    }

    public static async Task<GateResult> EvaluateAsync(IServiceProvider services, TimeProvider time, string name = "release-window")
    {
        var gate = new ReleaseWindowGate(services.GetRequiredService<IOptionsMonitor<ReleaseWindowOptions>>());
        var context = new GateContext(name, Manifest, "production", GateStage.Promotion, services, time, CancellationToken.None);
        return await gate.EvaluateAsync(context, CancellationToken.None);
    }

    public static string? Evidence(GateResult result, string name) => result.Evidence.FirstOrDefault(e => e.Name == name)?.Observed;
}
