namespace ReleaseKit.Reconciliation.Internal;

/// <summary>A token bucket on a <see cref="TimeProvider"/>: <c>rate</c> tokens per second, at most <c>capacity</c> saved up.</summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private readonly double _rate;
    private readonly double _capacity;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public TokenBucket(double ratePerSecond, int capacity, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _rate = ratePerSecond;
        _capacity = capacity;
        _time = time;
        _tokens = capacity;
        _last = time.GetTimestamp();
    }

    /// <summary>Takes a token, waiting (on the time provider) until one is available.</summary>
    public async ValueTask AcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = _time.GetTimestamp();
                _tokens = Math.Min(_capacity, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
                _last = now;
                if (_tokens >= 1)
                {
                    _tokens -= 1;
                    return;
                }

                wait = TimeSpan.FromSeconds((1 - _tokens) / _rate);
            }

            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
