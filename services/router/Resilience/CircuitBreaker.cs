namespace Mesh.Router.Resilience;

internal enum CircuitState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>
/// Stops calling a model host that keeps failing: after <c>failureThreshold</c> consecutive failed calls the
/// circuit opens and calls are refused (they go to the fallback or the dead-letter topic at once instead of each
/// waiting for a timeout); after <c>breakDuration</c> one probe call is let through, and its success closes the
/// circuit again while its failure opens it for another <c>breakDuration</c>.
/// </summary>
internal sealed class CircuitBreaker(int failureThreshold, TimeSpan breakDuration, TimeProvider time)
{
    private readonly Lock _gate = new();
    private CircuitState _state = CircuitState.Closed;
    private int _consecutiveFailures;
    private long _openUntil;
    private bool _probeInFlight;

    public CircuitState State
    {
        get
        {
            lock (_gate)
            {
                return _state == CircuitState.Open && time.GetTimestamp() >= _openUntil ? CircuitState.HalfOpen : _state;
            }
        }
    }

    /// <summary>Whether a call may go out now; when it returns true the caller must report the outcome.</summary>
    public bool TryAcquire()
    {
        lock (_gate)
        {
            switch (_state)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.Open when time.GetTimestamp() < _openUntil:
                    return false;
                default:
                    // Open and the break is over, or half-open: one probe at a time.
                    if (_probeInFlight)
                    {
                        return false;
                    }

                    _state = CircuitState.HalfOpen;
                    _probeInFlight = true;
                    return true;
            }
        }
    }

    public void OnSuccess()
    {
        lock (_gate)
        {
            _consecutiveFailures = 0;
            _probeInFlight = false;
            _state = CircuitState.Closed;
        }
    }

    /// <summary>
    /// The call ended without saying anything about the host's health (it was busy, or the router itself failed):
    /// neither closes nor opens the circuit, but frees the probe so a half-open circuit does not wait forever.
    /// </summary>
    public void OnAbandoned()
    {
        lock (_gate)
        {
            _probeInFlight = false;
        }
    }

    public void OnFailure()
    {
        lock (_gate)
        {
            _consecutiveFailures++;
            if (_state == CircuitState.HalfOpen || _consecutiveFailures >= failureThreshold)
            {
                _state = CircuitState.Open;
                _openUntil = time.GetTimestamp() + (long)(breakDuration.TotalSeconds * time.TimestampFrequency);
            }

            _probeInFlight = false;
        }
    }
}
