namespace Mesh.ServiceDefaults.Telemetry;

/// <summary>
/// Admits a span to the export queue only while fewer than the queue's capacity are waiting, and counts the ones it
/// turns away. Spans count as waiting from <see cref="TryEnter"/> until the exporter is done with them
/// (<see cref="OnExported"/>), which is never shorter than they sit in the SDK's own queue of the same capacity (a
/// batch leaves that queue only as the exporter reads it): so that queue never overflows, and every span is either
/// exported or counted here as dropped.
/// </summary>
public sealed class SpanExportGate
{
    private readonly int _capacity;
    private readonly SpanExportTelemetry _telemetry;
    private long _waiting;

    public SpanExportGate(int capacity, SpanExportTelemetry telemetry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _telemetry = telemetry;
        telemetry.SetCapacity(capacity);
    }

    /// <summary>True when the span may be queued; false when it is dropped (and counted).</summary>
    public bool TryEnter()
    {
        var waiting = Interlocked.Increment(ref _waiting);
        if (waiting > _capacity)
        {
            _telemetry.OnQueued(Interlocked.Decrement(ref _waiting));
            _telemetry.OnDropped();
            return false;
        }

        _telemetry.OnQueued(waiting);
        return true;
    }

    /// <summary>The exporter is done with <paramref name="count"/> spans (sent or failed): they no longer wait.</summary>
    public void OnExported(int count)
    {
        _telemetry.OnQueued(Interlocked.Add(ref _waiting, -count));
        _telemetry.OnExported(count);
    }
}
