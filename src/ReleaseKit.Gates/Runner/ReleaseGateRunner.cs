using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using ReleaseKit.Gates.Internal;

namespace ReleaseKit.Gates;

/// <summary>The default <see cref="IReleaseGateRunner"/>.</summary>
internal sealed partial class ReleaseGateRunner : IReleaseGateRunner
{
    private readonly IServiceScopeFactory _scopeFactory;
    private readonly IOptions<ReleaseGatesOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ReleaseGateRegistration, ResiliencePipeline<GateResult>> _retryPipelines = new();

    public ReleaseGateRunner(IServiceScopeFactory scopeFactory, IOptions<ReleaseGatesOptions> options, TimeProvider timeProvider, ILogger<ReleaseGateRunner>? logger = null)
    {
        _scopeFactory = scopeFactory;
        _options = options;
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public async Task<GateReport> RunAsync(GateRunRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Manifest, "request.Manifest");
        ArgumentException.ThrowIfNullOrWhiteSpace(request.EnvironmentName, "request.EnvironmentName");
        request.Sampling?.Validate();
        var stages = request.Stages.Count == 0 ? [GateStage.Promotion] : request.Stages.Distinct().ToArray();
        var selected = Select(request, stages);

        using var activity = GatesTelemetry.ActivitySource.StartActivity("releasekit.gates.run");
        if (activity is not null)
        {
            activity.SetTag(TelemetryTags.ReleaseId, request.Manifest.ReleaseId);
            activity.SetTag(TelemetryTags.ReleaseVersion, request.Manifest.Version);
            activity.SetTag(TelemetryTags.Environment, request.EnvironmentName);
            activity.SetTag(TelemetryTags.Stage, string.Join(',', stages.Select(StageName)));
        }

        var startedAt = _timeProvider.GetUtcNow();
        GateReport report;
        if (request.Sampling is null)
        {
            var round = await RunRoundAsync(1, selected, request, cancellationToken).ConfigureAwait(false);
            report = new GateReport(request.Manifest, request.EnvironmentName, stages, [round], startedAt, _timeProvider.GetUtcNow(), round.Verdict, Summarize(round), sampled: false);
        }
        else
        {
            report = await SampleAsync(selected, request, stages, startedAt, request.Sampling, cancellationToken).ConfigureAwait(false);
        }

        activity?.SetTag(TelemetryTags.Verdict, report.Verdict.ToWireName());
        if (!report.Verdict.IsPassing())
        {
            activity?.SetStatus(ActivityStatusCode.Error, report.Summary);
        }

        LogRunCompleted(_logger, request.Manifest.ReleaseId, request.EnvironmentName, report.Verdict, report.Summary);
        return report;
    }

    private async Task<GateReport> SampleAsync((GateStage Stage, ReleaseGateRegistration Registration)[] selected, GateRunRequest request, GateStage[] stages, DateTimeOffset startedAt, GateSamplingOptions sampling, CancellationToken cancellationToken)
    {
        var deadline = startedAt + sampling.Timeout;
        var rounds = new List<GateRound>();
        DateTimeOffset? steadySince = null;
        while (true)
        {
            var round = await RunRoundAsync(rounds.Count + 1, selected, request, cancellationToken).ConfigureAwait(false);
            rounds.Add(round);
            if (AllBlockingPassed(round))
            {
                steadySince ??= round.StartedAt;
                var steadyFor = round.StartedAt - steadySince.Value;
                if (steadyFor >= sampling.MinimumSteadyDuration)
                {
                    var summary = $"All blocking gates passed in round {round.Number} and stayed passing for {steadyFor} (required {sampling.MinimumSteadyDuration}).";
                    return new GateReport(request.Manifest, request.EnvironmentName, stages, rounds, startedAt, _timeProvider.GetUtcNow(), round.Verdict, summary, sampled: true);
                }
            }
            else
            {
                steadySince = null;
            }

            var now = _timeProvider.GetUtcNow();
            if (now + sampling.Interval > deadline)
            {
                Verdict verdict;
                string summary;
                if (steadySince is { } since)
                {
                    verdict = Verdict.Inconclusive;
                    summary = $"Sampling timed out after {rounds.Count} rounds: all blocking gates had been passing for {round.StartedAt - since}, short of the required {sampling.MinimumSteadyDuration}.";
                }
                else
                {
                    verdict = round.Verdict.Combine(Verdict.Inconclusive);
                    summary = $"Sampling timed out after {rounds.Count} rounds ({sampling.Timeout}) without all blocking gates passing. {Summarize(round)}";
                }

                return new GateReport(request.Manifest, request.EnvironmentName, stages, rounds, startedAt, now, verdict, summary, sampled: true);
            }

            await Task.Delay(sampling.Interval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool AllBlockingPassed(GateRound round) =>
        round.Entries.All(e => !e.CountsTowardVerdict || e.Severity == GateSeverity.Advisory || e.Result.Verdict.IsPassing())
        && round.Entries.Any(e => e.CountsTowardVerdict);

    private (GateStage Stage, ReleaseGateRegistration Registration)[] Select(GateRunRequest request, GateStage[] stages)
    {
        var registrations = _options.Value.Registrations;
        foreach (var name in request.GateNames)
        {
            if (!registrations.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                var known = registrations.Count == 0 ? "none are registered" : "registered: " + string.Join(", ", registrations.Select(r => r.Name));
                throw new ArgumentException($"No gate named '{name}' is registered ({known}).", nameof(request));
            }
        }

        var selected = new List<(GateStage, ReleaseGateRegistration)>();
        foreach (var stage in stages)
        {
            foreach (var registration in registrations)
            {
                if (!registration.RunsIn(stage))
                {
                    continue;
                }

                if (request.GateNames.Count > 0 && !request.GateNames.Contains(registration.Name, StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (request.Tags.Count > 0 && !request.Tags.Any(registration.Tags.Contains))
                {
                    continue;
                }

                selected.Add((stage, registration));
            }
        }

        return [.. selected];
    }

    private async Task<GateRound> RunRoundAsync(int number, (GateStage Stage, ReleaseGateRegistration Registration)[] selected, GateRunRequest request, CancellationToken cancellationToken)
    {
        var startedAt = _timeProvider.GetUtcNow();
        var start = _timeProvider.GetTimestamp();
        var scope = _scopeFactory.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var tasks = new Task<GateEntry>[selected.Length];
            for (var i = 0; i < selected.Length; i++)
            {
                var (stage, registration) = selected[i];
                tasks[i] = EvaluateAsync(registration, stage, number, scope.ServiceProvider, request, cancellationToken);
            }

            var entries = await Task.WhenAll(tasks).ConfigureAwait(false);
            return new GateRound(number, startedAt, _timeProvider.GetElapsedTime(start), entries);
        }
    }

    private async Task<GateEntry> EvaluateAsync(ReleaseGateRegistration registration, GateStage stage, int round, IServiceProvider services, GateRunRequest request, CancellationToken cancellationToken)
    {
        using var activity = GatesTelemetry.ActivitySource.StartActivity("releasekit.gate.evaluate");
        if (activity is not null)
        {
            activity.DisplayName = $"gate {registration.Name}";
            activity.SetTag(TelemetryTags.GateName, registration.Name);
            activity.SetTag(TelemetryTags.Stage, StageName(stage));
            activity.SetTag(TelemetryTags.Round, round);
        }

        var start = _timeProvider.GetTimestamp();
        var attempts = 0;
        GateResult result;
        try
        {
            if (registration.IsTransient)
            {
                var pipeline = _retryPipelines.GetOrAdd(registration, CreateRetryPipeline);
                result = await pipeline.ExecuteAsync(
                    async token =>
                    {
                        Interlocked.Increment(ref attempts);
                        return await AttemptAsync(registration, stage, services, request, token).ConfigureAwait(false);
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            else
            {
                attempts = 1;
                result = await AttemptAsync(registration, stage, services, request, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (GateTimeoutException)
        {
            result = GateResult.Timeout(registration.Timeout, registration.TimeoutVerdict, attempts);
        }
        catch (Exception ex)
        {
            result = GateResult.FromException(ex);
        }

        var duration = _timeProvider.GetElapsedTime(start);
        result = result.WithDuration(duration);
        var entry = new GateEntry(registration, stage, result, Math.Max(1, attempts));
        Record(entry, activity);
        return entry;
    }

    private async Task<GateResult> AttemptAsync(ReleaseGateRegistration registration, GateStage stage, IServiceProvider services, GateRunRequest request, CancellationToken cancellationToken)
    {
        using var gateCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = gateCancellation.Token;
        var gate = registration.Create(services);
        var context = new GateContext(registration.Name, request.Manifest, request.EnvironmentName, stage, services, _timeProvider, token);

        // Each gate starts on the thread pool so a gate that blocks cannot stall the others or the timeout.
        var evaluation = Task.Run(() => gate.EvaluateAsync(context, token).AsTask(), CancellationToken.None);
        if (!evaluation.IsCompleted)
        {
            using var timerCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var timer = Task.Delay(registration.Timeout, _timeProvider, timerCancellation.Token);
            var first = await Task.WhenAny(evaluation, timer).ConfigureAwait(false);
            if (first != evaluation)
            {
                await gateCancellation.CancelAsync().ConfigureAwait(false);
                _ = evaluation.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                cancellationToken.ThrowIfCancellationRequested();
                throw new GateTimeoutException();
            }

            await timerCancellation.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            return await evaluation.ConfigureAwait(false) ?? GateResult.Fail($"Gate '{registration.Name}' returned no result (null).");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && token.IsCancellationRequested)
        {
            throw new GateTimeoutException();
        }
    }

    private ResiliencePipeline<GateResult> CreateRetryPipeline(ReleaseGateRegistration registration) =>
        new ResiliencePipelineBuilder<GateResult> { TimeProvider = _timeProvider, Name = $"releasekit-gate-{registration.Name}" }
            .AddRetry(new RetryStrategyOptions<GateResult>
            {
                MaxRetryAttempts = registration.RetryAttempts,
                Delay = registration.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && !(ex is OperationCanceledException && args.Context.CancellationToken.IsCancellationRequested)),
                OnRetry = args =>
                {
                    LogRetry(_logger, registration.Name, args.AttemptNumber + 1, args.Outcome.Exception?.GetType().Name ?? "none");
                    return default;
                },
            })
            .Build();

    private static void Record(GateEntry entry, Activity? activity)
    {
        var verdict = entry.Verdict.ToWireName();
        if (activity is not null)
        {
            activity.SetTag(TelemetryTags.Verdict, verdict);
            if (!entry.Result.Verdict.IsPassing())
            {
                activity.SetStatus(ActivityStatusCode.Error, entry.Result.Reason);
            }
        }

        if (GatesTelemetry.Evaluations.Enabled || GatesTelemetry.Duration.Enabled)
        {
            var tags = new TagList
            {
                { TelemetryTags.GateName, entry.Name },
                { TelemetryTags.Stage, StageName(entry.Stage) },
                { TelemetryTags.Verdict, verdict },
            };
            GatesTelemetry.Evaluations.Add(1, tags);
            GatesTelemetry.Duration.Record(entry.Result.Duration.TotalSeconds, tags);
        }
    }

    private static string Summarize(GateRound round)
    {
        var counted = round.Entries.Where(e => e.CountsTowardVerdict).ToList();
        if (counted.Count == 0)
        {
            return "No gate was run for the selected stages and tags, so nothing was checked.";
        }

        var blocking = counted.Where(e => e.IsBlocking).Select(e => e.Name).ToList();
        var warned = counted.Count(e => e.Verdict == Verdict.Warn);
        return blocking.Count == 0
            ? $"{counted.Count} gate{(counted.Count == 1 ? string.Empty : "s")} passed{(warned > 0 ? $", {warned} with warnings" : string.Empty)}."
            : $"{blocking.Count} of {counted.Count} gates blocked the release: {string.Join(", ", blocking)}.";
    }

    internal static string StageName(GateStage stage) => stage switch
    {
        GateStage.Startup => "startup",
        GateStage.Promotion => "promotion",
        GateStage.PostDeploy => "postdeploy",
        _ => stage.ToString().ToLowerInvariant(),
    };

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Release {ReleaseId} in {Environment}: gates {Verdict}. {Summary}")]
    private static partial void LogRunCompleted(ILogger logger, string releaseId, string environment, Verdict verdict, string summary);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Gate {GateName} failed transiently ({ExceptionType}); attempt {Attempt} follows.")]
    private static partial void LogRetry(ILogger logger, string gateName, int attempt, string exceptionType);

    private sealed class GateTimeoutException : TimeoutException
    {
    }
}
