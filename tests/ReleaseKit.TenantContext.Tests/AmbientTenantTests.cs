using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class AmbientTenantTests
{
    private static ITenantContextAccessor Accessor(Action<TenantContextOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddTenantContext(configure);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider.GetRequiredService<ITenantContextAccessor>();
    }

    [Fact]
    public void Scopes_nest_and_restore_the_outer_tenant()
    {
        var tenants = Accessor();
        Assert.Null(tenants.CurrentTenantId);
        using (tenants.Begin("acme"))
        {
            Assert.Equal("acme", tenants.CurrentTenantId);
            using (tenants.Begin("globex"))
            {
                Assert.Equal("globex", tenants.GetRequiredTenantId());
            }

            Assert.Equal("acme", tenants.CurrentTenantId);
        }

        Assert.Null(tenants.CurrentTenantId);
    }

    [Fact]
    public void Ending_a_scope_keeps_other_ambient_values_set_inside_it()
    {
        var tenants = Accessor();
        var other = new AsyncLocal<int>();
        using (tenants.Begin("acme"))
        {
            other.Value = 5;
        }

        Assert.Null(tenants.CurrentTenantId);
        Assert.Equal(5, other.Value);
    }

    [Fact]
    public void Ending_a_scope_with_nothing_else_changed_gives_back_the_very_context_from_before()
    {
        var tenants = Accessor();
        var other = new AsyncLocal<string>{ Value = "outer" };
        var before = ExecutionContext.Capture();
        using (tenants.Begin("acme"))
        {
            Assert.NotSame(before, ExecutionContext.Capture());
        }

        Assert.Same(before, ExecutionContext.Capture());
        Assert.Null(tenants.CurrentTenantId);
        Assert.Equal("outer", other.Value);
    }

    [Fact]
    public void Beginning_the_tenant_that_is_already_ambient_changes_nothing()
    {
        var tenants = Accessor();
        using (tenants.Begin("acme"))
        {
            var inside = ExecutionContext.Capture();
            using (var again = tenants.Begin("acme"))
            {
                Assert.Same(inside, ExecutionContext.Capture());
                Assert.Equal("acme", again.TenantId);
            }

            Assert.Equal("acme", tenants.CurrentTenantId);
        }

        Assert.Null(tenants.CurrentTenantId);
    }

    [Fact]
    public void A_same_tenant_scope_still_restores_its_tenant_when_code_inside_leaked_another()
    {
        var tenants = Accessor();
        using (tenants.Begin("acme"))
        {
            using (tenants.Begin("acme"))
            {
                _ = tenants.Begin("globex"); // leaked: never disposed
                Assert.Equal("globex", tenants.CurrentTenantId);
            }

            Assert.Equal("acme", tenants.CurrentTenantId);
        }

        Assert.Null(tenants.CurrentTenantId);
    }

    [Fact]
    public async Task A_scope_ended_after_an_await_on_another_thread_restores_the_outer_tenant()
    {
        var tenants = Accessor();
        async Task<string?> WorkAsync()
        {
            using (tenants.Begin("globex"))
            {
                await Task.Yield();
                await Task.Delay(TimeSpan.FromMilliseconds(1), TimeProvider.System, TestContext.Current.CancellationToken).ConfigureAwait(false);
                Assert.Equal("globex", tenants.CurrentTenantId);
            }

            return tenants.CurrentTenantId;
        }

        using (tenants.Begin("acme"))
        {
            Assert.Equal("acme", await Task.Run(WorkAsync, TestContext.Current.CancellationToken));
            Assert.Equal("acme", tenants.CurrentTenantId);
        }
    }

    [Fact]
    public void Scopes_work_while_the_execution_context_flow_is_suppressed()
    {
        var tenants = Accessor();
        using (ExecutionContext.SuppressFlow())
        {
            using (tenants.Begin("acme"))
            {
                Assert.Equal("acme", tenants.CurrentTenantId);
            }

            Assert.Null(tenants.CurrentTenantId);
        }

        Assert.Null(tenants.CurrentTenantId);
    }

    [Fact]
    public void Missing_tenant_throws_a_specific_exception_by_default()
    {
        var tenants = Accessor();
        var error = Assert.Throws<TenantNotSetException>(() => tenants.GetRequiredTenantId());
        Assert.Contains("No tenant is set", error.Message);
    }

    [Fact]
    public void Missing_tenant_uses_the_named_fallback_tenant_when_configured()
    {
        var tenants = Accessor(o =>
        {
            o.AddTenant("internal");
            o.MissingTenant = MissingTenantBehavior.UseFallback;
            o.FallbackTenantId = "internal";
        });
        Assert.Null(tenants.CurrentTenantId);
        Assert.Equal("internal", tenants.GetRequiredTenantId());
    }

    [Theory]
    [InlineData("*")]
    [InlineData("ALL")]
    [InlineData("unknown")]
    [InlineData(null)]
    public void Fallback_tenant_that_is_not_one_real_tenant_fails_at_startup(string? fallback)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Accessor(o =>
        {
            o.AddTenant("internal");
            o.MissingTenant = MissingTenantBehavior.UseFallback;
            o.FallbackTenantId = fallback;
        }));
        Assert.Contains("FallbackTenantId", error.Message);
    }

    [Fact]
    public async Task Snapshot_restores_the_tenant_in_work_that_does_not_flow_the_context()
    {
        var tenants = Accessor();
        TenantSnapshot snapshot;
        using (tenants.Begin("acme"))
        {
            snapshot = tenants.Capture();
        }

        string? withoutRestore = "x";
        string? withRestore = null;
        Task work;
        using (ExecutionContext.SuppressFlow())
        {
            work = Task.Run(() =>
            {
                withoutRestore = tenants.CurrentTenantId;
                using var _ = snapshot.Restore();
                withRestore = tenants.CurrentTenantId;
            }, TestContext.Current.CancellationToken);
        }

        await work;
        Assert.Null(withoutRestore);
        Assert.Equal("acme", withRestore);
        Assert.Null(tenants.CurrentTenantId);
    }

    [Fact]
    public async Task Channel_message_carries_its_tenant_to_the_consumer()
    {
        var tenants = Accessor();
        var channel = Channel.CreateUnbounded<(TenantSnapshot Tenant, string Payload)>();
        foreach (var tenant in new[] { "acme", "globex", "initech" })
        {
            using var _ = tenants.Begin(tenant);
            await channel.Writer.WriteAsync((tenants.Capture(), tenant), TestContext.Current.CancellationToken);
        }

        channel.Writer.Complete();
        var seen = new List<(string Payload, string? Tenant)>();
        await foreach (var message in channel.Reader.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            await message.Tenant.RunAsync(_ =>
            {
                seen.Add((message.Payload, tenants.CurrentTenantId));
                return Task.CompletedTask;
            }, TestContext.Current.CancellationToken);
        }

        Assert.All(seen, s => Assert.Equal(s.Payload, s.Tenant));
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public void Timer_callback_restores_the_tenant_its_state_carries()
    {
        var tenants = Accessor();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        string? seen = null;
        ITimer timer;
        using (tenants.Begin("globex"))
        using (ExecutionContext.SuppressFlow())
        {
            timer = time.CreateTimer(state =>
            {
                using var _ = ((TenantSnapshot)state!).Restore();
                seen = tenants.CurrentTenantId;
            }, tenants.Capture(), TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan);
        }

        using (timer)
        {
            time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal("globex", seen);
        Assert.Null(tenants.CurrentTenantId);
    }

    [Fact]
    public void Empty_snapshot_restores_no_tenant_rather_than_keeping_the_current_one()
    {
        var tenants = Accessor();
        using var outer = tenants.Begin("acme");
        using (new TenantSnapshot(null).Restore())
        {
            Assert.Null(tenants.CurrentTenantId);
            Assert.Throws<TenantNotSetException>(() => tenants.GetRequiredTenantId());
        }

        Assert.Equal("acme", tenants.CurrentTenantId);
    }

    [Fact]
    public void Snapshot_round_trips_through_a_job_payload_string()
    {
        var tenants = Accessor();
        string payload;
        using (tenants.Begin("acme"))
        {
            payload = tenants.Capture().TenantId!;
        }

        using var _ = new TenantSnapshot(payload).Restore();
        Assert.Equal("acme", tenants.CurrentTenantId);
    }

    [Fact]
    public void Blank_tenant_id_is_rejected()
    {
        var tenants = Accessor();
        Assert.Throws<ArgumentException>(() => tenants.Begin(" "));
    }

    [Fact]
    public void Adding_the_tenant_context_twice_registers_each_service_once()
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddTenantContext().AddTenantContext();
        Assert.Single(services, d => d.ServiceType == typeof(ITenantContextAccessor));
        Assert.Single(services, d => d.ServiceType == typeof(ITenantResolver));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<TenantContextOptions>));
    }
}
