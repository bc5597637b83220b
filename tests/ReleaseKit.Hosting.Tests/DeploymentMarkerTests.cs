using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReleaseKit.Gates;

namespace ReleaseKit.Hosting.Tests;

public sealed class DeploymentMarkerTests
{
    /// <summary>Collects log entries; a real logger provider in the host's logging pipeline.</summary>
    private sealed class CollectingLoggerProvider : ILoggerProvider
    {
        public List<(EventId Id, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CollectingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (provider.Entries)
                {
                    provider.Entries.Add((eventId, formatter(state, exception)));
                }
            }
        }
    }

    [Fact]
    public async Task On_startup_the_release_is_marked_by_an_activity_event_a_log_entry_and_the_release_info_gauge()
    {
        var logs = new CollectingLoggerProvider();
        var events = new List<ActivityEvent>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "ReleaseKit.Hosting",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (events) { events.AddRange(a.Events); } },
        };
        ActivitySource.AddActivityListener(activities);
        using var app = new TestApp((services, releaseKit) =>
        {
            services.AddLogging(b => b.AddProvider(logs));
            releaseKit.AddDeploymentMarker();
        });

        await app.Host.StartAsync(TestContext.Current.CancellationToken);
        var gauge = ReadReleaseInfo("2026.11.27-1");
        await app.Host.StopAsync(TestContext.Current.CancellationToken);
        var afterStop = ReadReleaseInfo("2026.11.27-1");

        ActivityEvent[] seen;
        lock (events)
        {
            seen = [.. events];
        }

        var deployed = Assert.Single(seen, e => e.Name == "releasekit.release.deployed" && Equals(e.Tags.FirstOrDefault(t => t.Key == TelemetryTags.ReleaseId).Value, "2026.11.27-1"));
        var tags = deployed.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("4.2.0", tags[TelemetryTags.ReleaseVersion]);
        Assert.Equal("9f1c2e7d4b5a69788c0d1e2f3a4b5c6d7e8f9012", tags[HostingTelemetryTags.ReleaseCommit]);
        Assert.Equal("none", tags[HostingTelemetryTags.MigrationVersion]);
        Assert.Equal("staging", tags[TelemetryTags.Environment]);
        var log = Assert.Single(logs.Entries, e => e.Id.Id == 7001);
        Assert.Contains("2026.11.27-1", log.Message);
        Assert.Contains("4.2.0", log.Message);
        Assert.Contains("9f1c2e7d4b5a69788c0d1e2f3a4b5c6d7e8f9012", log.Message);
        var measurement = Assert.Single(gauge);
        Assert.Equal(1, measurement.Value);
        Assert.Equal("4.2.0", measurement.Tags[TelemetryTags.ReleaseVersion]);
        Assert.Equal("9f1c2e7d4b5a69788c0d1e2f3a4b5c6d7e8f9012", measurement.Tags[HostingTelemetryTags.ReleaseCommit]);
        Assert.Empty(afterStop);
    }

    [Fact]
    public async Task A_missing_manifest_stops_the_host_from_starting()
    {
        using var app = new TestApp((_, releaseKit) => releaseKit.AddDeploymentMarker(), manifest: null);

        var error = await Assert.ThrowsAsync<ReleaseManifestException>(() => app.Host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("release.json", error.Message);
    }

    [Fact]
    public void Adding_the_marker_twice_registers_one_hosted_service()
    {
        using var app = new TestApp((_, releaseKit) => releaseKit.AddDeploymentMarker().AddDeploymentMarker());

        Assert.Single(app.Services.GetServices<IHostedService>(), s => s.GetType().Name == "DeploymentMarkerService");
    }

    private static List<(int Value, Dictionary<string, object?> Tags)> ReadReleaseInfo(string releaseId)
    {
        var measurements = new List<(int, Dictionary<string, object?>)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "ReleaseKit.Hosting" && instrument.Name == "releasekit.release.info")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            var dictionary = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                dictionary[tag.Key] = tag.Value;
            }

            if (Equals(dictionary.GetValueOrDefault(TelemetryTags.ReleaseId), releaseId))
            {
                measurements.Add((value, dictionary));
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return measurements;
    }
}
