using System.Diagnostics.Metrics;

namespace Mesh.ServiceDefaults.Telemetry;

/// <summary>
/// What happened to the spans this process recorded for export, on /metrics under OpenTelemetry's SDK
/// self-observability names: <c>otel.sdk.processor.span.processed</c> (handed to the exporter, or with
/// <c>error.type=queue_full</c> dropped because the export queue was full) and the queue's size and capacity.
/// The SDK's batch processor keeps its own drop count internal, hence <see cref="SpanExportGate"/>.
/// </summary>
public sealed class SpanExportTelemetry
{
    public const string MeterName = "Mesh.ServiceDefaults";

    private static readonly KeyValuePair<string, object?> s_component = new("otel.component.type", "batching_span_processor");
    private static readonly KeyValuePair<string, object?> s_queueFull = new("error.type", "queue_full");

    private long _exported;
    private long _dropped;
    private long _queued;
    private long _capacity;

    public SpanExportTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("otel.sdk.processor.span.processed", ObserveProcessed, "{span}",
            "Spans the exporter was done with, and (error.type=queue_full) spans dropped because the export queue was full.");
        meter.CreateObservableGauge("otel.sdk.processor.span.queue.size", () => new Measurement<long>(Volatile.Read(ref _queued), s_component), "{span}",
            "Spans waiting in the export queue.");
        meter.CreateObservableGauge("otel.sdk.processor.span.queue.capacity", () => new Measurement<long>(Volatile.Read(ref _capacity), s_component), "{span}",
            "The export queue's capacity (0 when nothing is exported).");
    }

    /// <summary>Spans the exporter was done with so far.</summary>
    public long Exported => Volatile.Read(ref _exported);

    /// <summary>Spans dropped so far because the queue was full.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    internal void SetCapacity(int capacity) => Volatile.Write(ref _capacity, capacity);

    internal void OnQueued(long queued) => Volatile.Write(ref _queued, queued);

    internal void OnDropped() => Interlocked.Increment(ref _dropped);

    internal void OnExported(int count) => Interlocked.Add(ref _exported, count);

    private IEnumerable<Measurement<long>> ObserveProcessed() =>
    [
        new(Exported, s_component),
        new(Dropped, s_component, s_queueFull),
    ];
}
