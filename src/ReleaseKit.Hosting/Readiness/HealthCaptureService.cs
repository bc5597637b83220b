using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReleaseKit.HealthCriteria;

namespace ReleaseKit.Hosting.Readiness;

/// <summary>
/// Creates the <see cref="ReleaseHealthMonitor"/> when the host starts, when ReleaseKit.HealthCriteria is registered, so
/// it captures the application's instruments from the first request on and its windows start at the deploy. Without it
/// the monitor would start when something first asks for it, and miss what happened before.
/// </summary>
internal sealed class HealthCaptureService(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IServiceProviderIsService>() is { } isService && isService.IsService(typeof(ReleaseHealthMonitor)))
        {
            _ = services.GetRequiredService<ReleaseHealthMonitor>();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
