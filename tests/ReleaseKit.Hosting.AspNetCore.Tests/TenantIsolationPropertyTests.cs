using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.AspNetCore.Builder;
using OpenTelemetry;
using ReleaseKit.TenantContext;

namespace ReleaseKit.Hosting.AspNetCore.Tests;

/// <summary>Requests for different tenants in flight at the same time, through the real pipeline: none sees another's tenant.</summary>
public sealed class TenantIsolationPropertyTests
{
    [Property(MaxTest = 5)]
    public Property Concurrent_requests_for_different_tenants_each_see_only_their_own_tenant() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(2, 80).ToArbitrary(), (seed, requests) =>
            RunAsync(seed, requests).GetAwaiter().GetResult());

    private static async Task<bool> RunAsync(int seed, int requests)
    {
        var arrived = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await TenantApp.StartAsync(endpoints: (web, app) => web.MapGet("/overlap", async (ITenantContextAccessor accessor) =>
        {
            var before = accessor.CurrentTenantId;

            // Every request waits here until all are in flight, so their scopes overlap.
            if (Interlocked.Increment(ref arrived) == requests)
            {
                allArrived.SetResult();
            }

            await allArrived.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Yield();
            return $"{before}|{accessor.CurrentTenantId}|{Baggage.GetBaggage(TenantPropagation.Key)}";
        }));

        var random = new Random(seed);
        var tenants = Enumerable.Range(0, requests).Select(_ => TenantApp.Tenants[random.Next(TenantApp.Tenants.Length)]).ToArray();
        var answers = await Task.WhenAll(tenants.Select(t => app.GetStringAsync("/overlap", t)));

        for (var i = 0; i < requests; i++)
        {
            Assert.Equal($"{tenants[i]}|{tenants[i]}|{tenants[i]}", answers[i]);
        }

        return true;
    }
}
