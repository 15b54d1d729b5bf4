namespace Mesh.Router.RateLimiting;

/// <summary>
/// A token bucket per experiment: <c>ratePerSecond</c> tokens a second up to <c>burst</c>. A record takes one token;
/// when none is left the consume thread waits for the next (records over the limit wait, they are never dropped).
/// Only the consume thread takes tokens, so there is no lock.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _ratePerSecond;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _updated;

    public TokenBucket(double ratePerSecond, double burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        _ratePerSecond = ratePerSecond;
        _burst = burst > 0 ? burst : Math.Max(1, ratePerSecond);
        _time = time;
        _tokens = _burst;
        _updated = time.GetTimestamp();
    }

    public double RatePerSecond => _ratePerSecond;

    public double Burst => _burst;

    /// <summary>Takes a token if one is there; otherwise says how long until one will be.</summary>
    public bool TryTake(out TimeSpan retryAfter)
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_updated, now).TotalSeconds * _ratePerSecond));
        _updated = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            retryAfter = TimeSpan.Zero;
            return true;
        }

        retryAfter = TimeSpan.FromSeconds((1 - _tokens) / _ratePerSecond);
        return false;
    }
}
