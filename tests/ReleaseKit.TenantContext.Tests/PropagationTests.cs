using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

public sealed class PropagationTests
{
    private static IEnumerable<string>? Get(Dictionary<string, string> carrier, string key) => carrier.TryGetValue(key, out var v) ? [v] : null;

    [Fact]
    public void Tenant_round_trips_through_baggage_inject_carrier_extract_restore()
    {
        using var provider = TestTenants.Build();
        var tenants = provider.GetRequiredService<ITenantContextAccessor>();
        var carrier = new Dictionary<string, string>();
        using (tenants.Begin("acme"))
        {
            TenantPropagation.Inject(carrier, (c, k, v) => c[k] = v);
        }

        Assert.Contains("tenant.id=acme", carrier["baggage"]);
        Assert.Null(tenants.CurrentTenantId);

        var extracted = TenantPropagation.Extract(carrier, Get);
        using var _ = tenants.Begin(extracted!);
        Assert.Equal("acme", tenants.CurrentTenantId);
    }

    [Fact]
    public void Round_trip_through_a_composite_propagator_keeps_trace_context_and_other_baggage()
    {
        var propagator = new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()]);
        using var source = new ActivitySource("test.propagation");
        using var listener = new ActivityListener { ShouldListenTo = s => s.Name == "test.propagation", Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded };
        ActivitySource.AddActivityListener(listener);
        var carrier = new Dictionary<string, string>();
        Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["region"] = "eu" });
        using (var activity = source.StartActivity("send"))
        {
            TenantPropagation.Inject(carrier, (c, k, v) => c[k] = v, "globex", propagator);
            Assert.Contains(activity!.TraceId.ToHexString(), carrier["traceparent"]);
        }

        Baggage.Current = default;
        Assert.Equal("globex", TenantPropagation.Extract(carrier, Get, propagator));
        var context = propagator.Extract(default, carrier, Get);
        Assert.Equal("eu", context.Baggage.GetBaggage("region"));
    }

    [Fact]
    public void Carrier_without_tenant_baggage_extracts_no_tenant()
    {
        Assert.Null(TenantPropagation.Extract(new Dictionary<string, string>(), Get));
    }

    [Fact]
    public void Activity_gets_the_ambient_tenant_as_tenant_id_tag()
    {
        using var provider = TestTenants.Build();
        using var source = new ActivitySource("test.tag");
        using var listener = new ActivityListener { ShouldListenTo = s => s.Name == "test.tag", Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded };
        ActivitySource.AddActivityListener(listener);
        using var scope = provider.GetRequiredService<ITenantContextAccessor>().Begin("initech");
        using var activity = TenantPropagation.TagActivity(source.StartActivity("work"));
        Assert.Equal("initech", activity!.GetTagItem("tenant.id"));
    }

    [Fact]
    public void Injecting_without_a_tenant_throws()
    {
        Assert.Throws<TenantNotSetException>(() => TenantPropagation.Inject(new Dictionary<string, string>(), (c, k, v) => c[k] = v));
    }
}
