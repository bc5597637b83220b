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
        var stages = DistinctStages(request.Stages);
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

            // Rounds run on a fixed cadence from the start (round k at start + (k-1) x interval), so a slow round
            // does not push every later round back.
            var now = _timeProvider.GetUtcNow();
            var nextRound = startedAt + (sampling.Interval * rounds.Count);
            if (nextRound > deadline)
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

            var wait = nextRound - now;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static GateStage[] DistinctStages(IReadOnlyList<GateStage> requested)
    {
        if (requested.Count <= 1)
        {
            return [requested.Count == 0 ? GateStage.Promotion : requested[0]];
        }

        var stages = new List<GateStage>(requested.Count);
        foreach (var stage in requested)
        {
            if (!stages.Contains(stage))
            {
                stages.Add(stage);
            }
        }

        return [.. stages];
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

        var selected = new List<(GateStage, ReleaseGateRegistration)>(registrations.Count);
        foreach (var stage in stages)
        {
            foreach (var registration in registrations)
            {
                if (registration.RunsIn(stage) && IsRequested(request, registration))
                {
                    selected.Add((stage, registration));
                }
            }
        }

        return [.. selected];
    }

    private static bool IsRequested(GateRunRequest request, ReleaseGateRegistration registration)
    {
        if (request.GateNames.Count > 0 && !request.GateNames.Contains(registration.Name, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        if (request.Tags.Count > 0)
        {
            foreach (var tag in request.Tags)
            {
                if (registration.Tags.Contains(tag))
                {
                    return true;
                }
            }

            return false;
        }

        return true;
    }

    private async Task<GateRound> RunRoundAsync(int number, (GateStage Stage, ReleaseGateRegistration Registration)[] selected, GateRunRequest request, CancellationToken cancellationToken)
    {
        var startedAt = _timeProvider.GetUtcNow();
        var start = _timeProvider.GetTimestamp();
        var scope = _scopeFactory.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var services = scope.ServiceProvider;
            var barrier = new RoundBarrier(selected.Length);
            var works = new GateWork[selected.Length];
            List<TimeoutGroup>? groups = null;
            try
            {
                for (var i = 0; i < selected.Length; i++)
                {
                    var (stage, registration) = selected[i];
                    var work = works[i] = new GateWork(this, registration, stage, number, barrier);
                    if (registration.IsTransient)
                    {
                        // Retried gates time out per attempt, inside the retry pipeline.
                        work.StartTransient(services, request, cancellationToken);
                    }
                    else
                    {
                        work.Start(services, request, GroupFor(groups ??= new List<TimeoutGroup>(1), registration.Timeout, works, cancellationToken));
                    }
                }

                // Every gate ends with a result or its group's timeout (a cancelled run expires every group too).
                await barrier.Task.ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            finally
            {
                if (groups is not null)
                {
                    foreach (var group in groups)
                    {
                        group.Dispose();
                    }
                }
            }

            var entries = new GateEntry[works.Length];
            for (var i = 0; i < works.Length; i++)
            {
                entries[i] = works[i].Entry!;
            }

            return new GateRound(number, startedAt, _timeProvider.GetElapsedTime(start), entries);
        }
    }

    // Gates with the same timeout share a deadline and a cancellation source: one timer per round, not per gate.
    private TimeoutGroup GroupFor(List<TimeoutGroup> groups, TimeSpan timeout, GateWork[] works, CancellationToken cancellationToken)
    {
        foreach (var existing in groups)
        {
            if (existing.Timeout == timeout)
            {
                return existing;
            }
        }

        var group = new TimeoutGroup(timeout, works, _timeProvider, cancellationToken);
        groups.Add(group);
        return group;
    }

    private async Task<(GateResult Result, int Attempts)> EvaluateTransientAsync(ReleaseGateRegistration registration, GateStage stage, IServiceProvider services, GateRunRequest request, CancellationToken cancellationToken)
    {
        var attempts = 0;
        try
        {
            var pipeline = _retryPipelines.GetOrAdd(registration, CreateRetryPipeline);
            var result = await pipeline.ExecuteAsync(
                async token =>
                {
                    Interlocked.Increment(ref attempts);
                    return await AttemptAsync(registration, stage, services, request, token).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            return (result, attempts);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (GateTimeoutException)
        {
            return (GateResult.Timeout(registration.Timeout, registration.TimeoutVerdict, attempts), attempts);
        }
        catch (Exception ex)
        {
            return (GateResult.FromException(ex), attempts);
        }
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
        var counted = 0;
        var warned = 0;
        List<string>? blocking = null;
        foreach (var entry in round.Entries)
        {
            if (!entry.CountsTowardVerdict)
            {
                continue;
            }

            counted++;
            if (entry.IsBlocking)
            {
                (blocking ??= []).Add(entry.Name);
            }
            else if (entry.Verdict == Verdict.Warn)
            {
                warned++;
            }
        }

        if (counted == 0)
        {
            return "No gate was run for the selected stages and tags, so nothing was checked.";
        }

        return blocking is null
            ? $"{counted} gate{(counted == 1 ? string.Empty : "s")} passed{(warned > 0 ? $", {warned} with warnings" : string.Empty)}."
            : $"{blocking.Count} of {counted} gates blocked the release: {string.Join(", ", blocking)}.";
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

    /// <summary>Completes when every gate of a round has an outcome (a result or a timeout).</summary>
    private sealed class RoundBarrier
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending;

        public RoundBarrier(int count)
        {
            _pending = count;
            if (count == 0)
            {
                _done.SetResult();
            }
        }

        public Task Task => _done.Task;

        public void Signal()
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.TrySetResult();
            }
        }
    }

    /// <summary>The gates of a round that share a timeout: one cancellation source whose timer (on the run's TimeProvider) times them out.</summary>
    private sealed class TimeoutGroup : IDisposable
    {
        private readonly GateWork[] _works;
        private readonly CancellationTokenSource _cancellation;
        private readonly CancellationTokenRegistration _expiry;
        private readonly CancellationTokenRegistration _runCancelled;
        private volatile bool _expired;

        public TimeoutGroup(TimeSpan timeout, GateWork[] works, TimeProvider timeProvider, CancellationToken runCancellation)
        {
            Timeout = timeout;
            _works = works;
            _cancellation = new CancellationTokenSource(timeout, timeProvider);
            _expiry = _cancellation.Token.UnsafeRegister(static state => ((TimeoutGroup)state!).Expire(), this);
            if (runCancellation.CanBeCanceled)
            {
                _runCancelled = runCancellation.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _cancellation);
            }
        }

        public TimeSpan Timeout { get; }

        public CancellationToken Token => _cancellation.Token;

        public bool Expired => _expired;

        public void Dispose()
        {
            _runCancelled.Dispose();
            _expiry.Dispose();
            _cancellation.Dispose();
        }

        private void Expire()
        {
            _expired = true;
            foreach (var work in _works)
            {
                if (work is not null && ReferenceEquals(work.Group, this))
                {
                    work.TimeOut();
                }
            }
        }
    }

    /// <summary>One gate's evaluation in a round: started on the thread pool, finished by its result or its timeout, whichever comes first.</summary>
    private sealed class GateWork(ReleaseGateRunner runner, ReleaseGateRegistration registration, GateStage stage, int round, RoundBarrier barrier)
    {
        private const int Running = 0;
        private const int Finished = 1;

        private IReleaseGate? _gate;
        private GateContext? _context;
        private Activity? _activity;
        private Activity? _parent;
        private long _start;
        private int _state;

        public GateEntry? Entry { get; private set; }

        public TimeoutGroup? Group { get; private set; }

        public void Start(IServiceProvider services, GateRunRequest request, TimeoutGroup group)
        {
            Begin();
            Group = group;
            if (group.Expired)
            {
                // The group's timer fired before this gate was even started (a tiny timeout, or the run was cancelled).
                EndBegin();
                TimeOut();
                return;
            }

            try
            {
                _gate = registration.Create(services);
                _context = new GateContext(registration.Name, request.Manifest, request.EnvironmentName, stage, services, runner._timeProvider, group.Token);
            }
            catch (Exception ex)
            {
                EndBegin();
                Complete(GateResult.FromException(ex));
                return;
            }

            // On the thread pool, so a gate that blocks its thread cannot stall the others or the timeout.
            ThreadPool.QueueUserWorkItem(static work => work.Execute(), this, preferLocal: false);
            EndBegin();
            if (group.Expired)
            {
                TimeOut(); // expired while this gate was being started: Expire may not have seen it
            }
        }

        public void StartTransient(IServiceProvider services, GateRunRequest request, CancellationToken cancellationToken)
        {
            Begin();
            _ = CompleteTransientAsync(runner.EvaluateTransientAsync(registration, stage, services, request, cancellationToken));
            EndBegin();
        }

        public void TimeOut()
        {
            if (Interlocked.CompareExchange(ref _state, Finished, Running) == Running)
            {
                Finish(GateResult.Timeout(registration.Timeout, registration.TimeoutVerdict, 1), 1);
            }
        }

        private void Begin()
        {
            _parent = Activity.Current;
            _activity = GatesTelemetry.ActivitySource.StartActivity("releasekit.gate.evaluate");
            if (_activity is not null)
            {
                _activity.DisplayName = $"gate {registration.Name}";
                _activity.SetTag(TelemetryTags.GateName, registration.Name);
                _activity.SetTag(TelemetryTags.Stage, StageName(stage));
                _activity.SetTag(TelemetryTags.Round, round);
            }

            _start = runner._timeProvider.GetTimestamp();
        }

        // The gate's work item captured the gate's activity as current; the round goes on under its own.
        private void EndBegin() => Activity.Current = _parent;

        private void Execute()
        {
            ValueTask<GateResult> evaluation;
            try
            {
                evaluation = _gate!.EvaluateAsync(_context!, _context!.CancellationToken);
            }
            catch (Exception ex)
            {
                Fault(ex);
                return;
            }

            if (evaluation.IsCompletedSuccessfully)
            {
                Complete(evaluation.Result);
            }
            else
            {
                _ = AwaitAsync(evaluation);
            }
        }

        private async Task AwaitAsync(ValueTask<GateResult> evaluation)
        {
            try
            {
                Complete(await evaluation.ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                Fault(ex);
            }
        }

        private async Task CompleteTransientAsync(Task<(GateResult Result, int Attempts)> evaluation)
        {
            try
            {
                var (result, attempts) = await evaluation.ConfigureAwait(false);
                Complete(result, attempts);
            }
            catch (Exception ex)
            {
                // Only cancellation of the run gets here; the round is being abandoned.
                Complete(GateResult.FromException(ex));
            }
        }

        private void Fault(Exception exception)
        {
            if (exception is OperationCanceledException && _context is { CancellationToken.IsCancellationRequested: true })
            {
                // Cancelled by its timeout (or the run's cancellation): the timeout outcome stands.
                TimeOut();
                return;
            }

            Complete(GateResult.FromException(exception));
        }

        private void Complete(GateResult? result, int attempts = 1)
        {
            if (Interlocked.CompareExchange(ref _state, Finished, Running) == Running)
            {
                Finish(result ?? GateResult.Fail($"Gate '{registration.Name}' returned no result (null)."), attempts);
            }
        }

        private void Finish(GateResult result, int attempts)
        {
            var duration = runner._timeProvider.GetElapsedTime(_start);
            var entry = new GateEntry(registration, stage, result.WithDuration(duration), Math.Max(1, attempts));
            Entry = entry;
            Record(entry, _activity);
            _activity?.Dispose();
            barrier.Signal();
        }
    }
}
