using System.Collections.Concurrent;
using System.Threading.Channels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.TenantContext;

namespace ReleaseKit.TenantContext.Tests;

/// <summary>Thousands of concurrent flows with random tenants and random steps never observe another flow's tenant.</summary>
public sealed class FlowIsolationPropertyTests
{
    private const int Flows = 10_000;

    private enum Step
    {
        Yield,
        NestedScope,
        TaskRun,
        ConfigureAwaitFalse,
        Channel,
        EmptySnapshot,
    }

    private static readonly Step[] Steps = Enum.GetValues<Step>();

    [Property(MaxTest = 5)]
    public Property Concurrent_flows_never_observe_another_flows_tenant() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(2, 200).ToArbitrary(), (seed, tenantCount) =>
            RunAsync(seed, tenantCount).GetAwaiter().GetResult());

    private static async Task<bool> RunAsync(int seed, int tenantCount)
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddTenantContext();
        using var provider = services.BuildServiceProvider();
        var tenants = provider.GetRequiredService<ITenantContextAccessor>();
        var violations = new ConcurrentQueue<string>();
        var channel = Channel.CreateUnbounded<(TenantSnapshot Snapshot, string Expected, TaskCompletionSource Done)>();

        // The consumer runs without the producers' context: it sees a tenant only through the restored snapshot.
        Task consumer;
        using (ExecutionContext.SuppressFlow())
        {
            consumer = Task.Run(async () =>
            {
                await foreach (var message in channel.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    if (tenants.CurrentTenantId is { } stale)
                    {
                        violations.Enqueue($"consumer saw '{stale}' before restoring");
                    }

                    using (message.Snapshot.Restore())
                    {
                        Check(tenants, message.Expected, violations, "channel consumer");
                    }

                    message.Done.SetResult();
                }
            });
        }

        var random = new Random(seed);
        var flows = new Task[Flows];
        for (var i = 0; i < Flows; i++)
        {
            var tenant = $"t{random.Next(tenantCount)}";
            var steps = Enumerable.Range(0, random.Next(1, 6)).Select(_ => Steps[random.Next(Steps.Length)]).ToArray();
            var nested = $"t{random.Next(tenantCount)}";
            flows[i] = Task.Run(() => FlowAsync(tenants, tenant, nested, steps, channel.Writer, violations));
        }

        await Task.WhenAll(flows);
        channel.Writer.Complete();
        await consumer;
        Check(tenants, null, violations, "test thread after all flows");
        return violations.IsEmpty
            ? true
            : throw new InvalidOperationException($"seed {seed}, {tenantCount} tenants: {violations.Count} violations, e.g. {string.Join("; ", violations.Take(3))}");
    }

    private static async Task FlowAsync(ITenantContextAccessor tenants, string tenant, string nested, Step[] steps, ChannelWriter<(TenantSnapshot, string, TaskCompletionSource)> writer, ConcurrentQueue<string> violations)
    {
        using var scope = tenants.Begin(tenant);
        foreach (var step in steps)
        {
            switch (step)
            {
                case Step.Yield:
                    await Task.Yield();
                    break;
                case Step.NestedScope:
                    using (tenants.Begin(nested))
                    {
                        await Task.Yield();
                        Check(tenants, nested, violations, "nested scope");
                    }

                    break;
                case Step.TaskRun:
                    await Task.Run(async () =>
                    {
                        Check(tenants, tenant, violations, "Task.Run");
                        await Task.Yield();
                        Check(tenants, tenant, violations, "Task.Run after yield");
                    });
                    break;
                case Step.ConfigureAwaitFalse:
                    await Task.Run(() => { }).ConfigureAwait(false);
                    break;
                case Step.Channel:
                    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    await writer.WriteAsync((tenants.Capture(), tenant, done)).ConfigureAwait(false);
                    await done.Task.ConfigureAwait(false);
                    break;
                case Step.EmptySnapshot:
                    using (new TenantSnapshot(null).Restore())
                    {
                        await Task.Yield();
                        Check(tenants, null, violations, "empty snapshot");
                    }

                    break;
            }

            Check(tenants, tenant, violations, $"after {step}");
        }
    }

    private static void Check(ITenantContextAccessor tenants, string? expected, ConcurrentQueue<string> violations, string where)
    {
        var observed = tenants.CurrentTenantId;
        if (!string.Equals(observed, expected, StringComparison.Ordinal))
        {
            violations.Enqueue($"{where}: expected '{expected ?? "(none)"}', observed '{observed ?? "(none)"}'");
        }
    }
}
