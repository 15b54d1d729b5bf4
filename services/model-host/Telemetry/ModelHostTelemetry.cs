using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.ModelHost.Telemetry;

/// <summary>The service's one Meter and ActivitySource; every instrument is tagged by model and version.</summary>
internal sealed class ModelHostTelemetry
{
    public const string Name = "Mesh.ModelHost";

    private static readonly InstrumentAdvice<double> s_secondsAdvice = new()
    {
        HistogramBucketBoundaries = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    };

    private static readonly InstrumentAdvice<long> s_batchAdvice = new()
    {
        HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536],
    };

    // What InferenceCore answers a failed call with: a bad request, a full queue, a failure of the model itself.
    private static readonly string[] s_errorStatuses = ["InvalidArgument", "ResourceExhausted", "Internal"];

    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _inferenceDuration;
    private readonly Histogram<double> _queueDuration;
    private readonly Histogram<long> _batchRows;
    private readonly Histogram<double> _stepDuration;
    private readonly ConcurrentDictionary<(string Model, string Version), Func<int>> _queues = new();

    public ModelHostTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _requests = meter.CreateCounter<long>("mesh.model_host.requests", "{request}", "Inference calls (gRPC and HTTP), by model, version and status.");
        _errors = meter.CreateCounter<long>("mesh.model_host.errors", "{request}", "Inference calls that failed, by model, version and status.");
        _rows = meter.CreateCounter<long>("mesh.model_host.rows", "{row}", "Rows scored.");
        _inferenceDuration = meter.CreateHistogram("mesh.model_host.inference.duration", "s", "Time of one ONNX Runtime call (one batch).", advice: s_secondsAdvice);
        _queueDuration = meter.CreateHistogram("mesh.model_host.queue.duration", "s", "Time a request waited for its batch to start.", advice: s_secondsAdvice);
        _batchRows = meter.CreateHistogram("mesh.model_host.batch.size", "{row}", "Rows per ONNX Runtime call, after dynamic batching.", advice: s_batchAdvice);
        _stepDuration = meter.CreateHistogram("mesh.model_host.step.duration", "s", "Time of one step of a chained model on one batch, by model, version and step.", advice: s_secondsAdvice);
        meter.CreateObservableGauge("mesh.model_host.queue.waiting", ObserveQueues, "{request}", "Requests waiting for their batch to start, per model version.");
    }

    public static ActivitySource ActivitySource { get; } = new(Name);

    public void RecordRequest(string model, string version, string status, long rows)
    {
        var tags = new TagList { { "model", model }, { "version", version }, { "status", status } };
        _requests.Add(1, tags);
        if (status != "OK")
        {
            _errors.Add(1, tags);
        }
        else
        {
            _rows.Add(rows, new TagList { { "model", model }, { "version", version } });
        }
    }

    /// <summary>
    /// Puts a loaded model version's error series on /metrics at zero, one per status a failed call can have, so an
    /// alert on their rate reads 0 rather than "no data". Models load after start, when the meter provider listens.
    /// </summary>
    public void AddModelZeros(string model, string version)
    {
        foreach (var status in s_errorStatuses)
        {
            _errors.Add(0, new TagList { { "model", model }, { "version", version }, { "status", status } });
        }
    }

    public void RecordBatch(string model, string version, long rows, double seconds)
    {
        var tags = new TagList { { "model", model }, { "version", version } };
        _batchRows.Record(rows, tags);
        _inferenceDuration.Record(seconds, tags);
    }

    public void RecordStep(string model, string version, string step, double seconds) =>
        _stepDuration.Record(seconds, new TagList { { "model", model }, { "version", version }, { "step", step } });

    /// <summary>Reports a batcher's waiting requests until <see cref="UntrackQueue"/>.</summary>
    public void TrackQueue(string model, string version, Func<int> waiting) => _queues[(model, version)] = waiting;

    public void UntrackQueue(string model, string version) => _queues.TryRemove((model, version), out _);

    public void RecordQueueWait(string model, string version, double seconds) =>
        _queueDuration.Record(seconds, new TagList { { "model", model }, { "version", version } });

    private IEnumerable<Measurement<int>> ObserveQueues() =>
        _queues.Select(q => new Measurement<int>(q.Value(), new KeyValuePair<string, object?>("model", q.Key.Model), new KeyValuePair<string, object?>("version", q.Key.Version)));
}
