using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mesh.Router.Resilience;

namespace Mesh.Router.Telemetry;

/// <summary>The router's one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named "Mesh.Router".</summary>
internal sealed class RouterTelemetry
{
    public const string Name = "Mesh.Router";

    public static readonly ActivitySource Source = new(Name);

    // From a loopback call (a fraction of a millisecond) to an arm's timeout.
    private static readonly InstrumentAdvice<double> s_callAdvice = new()
    {
        HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    // 1 ms (the embedded broker's p50) to 10 s (far past any latency budget): the p99 alert needs buckets on both sides.
    private static readonly InstrumentAdvice<double> s_endToEndAdvice = new()
    {
        HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    };

    private static readonly CircuitState[] s_circuitStates = [CircuitState.Closed, CircuitState.Open, CircuitState.HalfOpen];

    private readonly Histogram<double> _endToEnd;
    // Keyed by the tags' values: an arm whose model changed gets a new runtime, which takes over the arm's series.
    private readonly ConcurrentDictionary<string, (KeyValuePair<string, object?>[] Tags, Func<int> Value)> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (KeyValuePair<string, object?>[] Tags, Func<CircuitState> Value)> _circuits = new(StringComparer.Ordinal);
    private Func<int> _shedLevel = static () => 0;

    public RouterTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        Records = meter.CreateCounter<long>("mesh.router.records", "{record}", "Feature records consumed.");
        Predictions = meter.CreateCounter<long>("mesh.router.predictions", "{prediction}", "Predictions produced and acknowledged.");
        DeadLetters = meter.CreateCounter<long>("mesh.router.dead_letters", "{record}", "Records sent to the dead-letter topic, by error class.");
        BatchSize = meter.CreateHistogram<int>("mesh.router.batch.size", "{record}", "Records per ModelInfer call.");
        // OpenTelemetry's RPC convention (rpc.client.call.duration, seconds), tagged with the experiment and arm called.
        InferenceDuration = meter.CreateHistogram("rpc.client.call.duration", "s", "ModelInfer call latency per batch, by experiment and arm.", advice: s_callAdvice);
        _endToEnd = meter.CreateHistogram("mesh.router.end_to_end.duration", "s",
            "From a record's event time to its Prediction acknowledged by Kafka, by experiment and arm.", advice: s_endToEndAdvice);
        ShadowPredictions = meter.CreateCounter<long>("mesh.router.shadow.predictions", "{prediction}", "Shadow predictions produced and acknowledged.");
        ShadowShed = meter.CreateCounter<long>("mesh.router.shadow.shed", "{record}", "Records not copied to a shadow because its batches were all busy.");
        ShadowFailures = meter.CreateCounter<long>("mesh.router.shadow.failures", "{record}", "Records a shadow failed to score.");
        Fallbacks = meter.CreateCounter<long>("mesh.router.fallbacks", "{record}", "Records answered by the fallback arm, by the arm that failed.");
        CircuitRejections = meter.CreateCounter<long>("mesh.router.circuit.rejections", "{record}", "Records not sent to an arm because its circuit was open.");
        Pauses = meter.CreateCounter<long>("mesh.router.pauses", "{pause}", "Times the consume thread paused its partitions because an arm's batches were all in flight.");
        RateLimited = meter.CreateCounter<long>("mesh.router.rate_limited", "{record}", "Records that waited for their experiment's rate limit.");
        HostUnavailableWaits = meter.CreateCounter<long>("mesh.router.host_unavailable_waits", "{call}", "ModelInfer calls that found the model host unreachable while the arm had no fallback; the batch was held and retried.");
        HostBusy = meter.CreateCounter<long>("mesh.router.host_busy", "{call}", "ModelInfer calls a model host refused with RESOURCE_EXHAUSTED (its queue was full) and the router retried.");
        DuplicatesSkipped = meter.CreateCounter<long>("mesh.router.duplicates_skipped", "{record}",
            "Records not predicted again because the experiment had already predicted their request id (a redelivery or a replay), by experiment.");
        ShedRecords = meter.CreateCounter<long>("mesh.router.shed.records", "{record}",
            "Shed under consumer lag, by experiment and kind: shadow (shadow copies not made) or challenger (records sent to the fallback arm without asking the policy).");
        meter.CreateObservableGauge("mesh.router.shed.level", () => _shedLevel(), "1",
            "The router's lag-aware shedding level: 0 nothing shed, 1 shadows shed, 2 shadows and challengers shed.");
        meter.CreateObservableGauge("mesh.router.batches.in_flight", ObserveInFlight, "{batch}", "Batches of an arm open or being processed (at most its MaxInFlightBatches), by experiment and arm.");
        meter.CreateObservableGauge("mesh.router.circuit.state", ObserveCircuits, "1",
            "1 for the state each arm's circuit is in (closed, open, half_open), 0 for the others, by experiment and arm.");
    }

    public Counter<long> Records { get; }

    public Counter<long> Predictions { get; }

    public Counter<long> DeadLetters { get; }

    public Histogram<int> BatchSize { get; }

    public Histogram<double> InferenceDuration { get; }

    public Counter<long> ShadowPredictions { get; }

    public Counter<long> ShadowShed { get; }

    public Counter<long> ShadowFailures { get; }

    public Counter<long> Fallbacks { get; }

    public Counter<long> CircuitRejections { get; }

    public Counter<long> Pauses { get; }

    public Counter<long> RateLimited { get; }

    public Counter<long> HostBusy { get; }

    public Counter<long> HostUnavailableWaits { get; }

    public Counter<long> DuplicatesSkipped { get; }

    public Counter<long> ShedRecords { get; }

    /// <summary>
    /// Puts the counters whose label sets are known at start on /metrics at zero, so an alert on their rate reads 0
    /// rather than "no data". Called once the meter provider listens (a measurement before that is lost).
    /// </summary>
    public void AddZeros(IEnumerable<string> errorClasses)
    {
        Records.Add(0);
        Predictions.Add(0);
        ShadowPredictions.Add(0);
        foreach (var errorClass in errorClasses)
        {
            DeadLetters.Add(0, new KeyValuePair<string, object?>("error_class", errorClass));
        }
    }

    /// <summary>The same for an arm's own counters, when a spec brings the arm in.</summary>
    public void AddArmZeros(KeyValuePair<string, object?>[] armTags, bool isShadow)
    {
        if (isShadow)
        {
            ShadowShed.Add(0, armTags);
            ShadowFailures.Add(0, armTags);
            return;
        }

        Fallbacks.Add(0, armTags);
        CircuitRejections.Add(0, armTags);
        HostBusy.Add(0, armTags);
        HostUnavailableWaits.Add(0, armTags);
        Pauses.Add(0, armTags);
    }

    /// <summary>The same for an experiment's own counters, when a spec brings the experiment in.</summary>
    public void AddExperimentZeros(string experiment)
    {
        var tag = new KeyValuePair<string, object?>("experiment", experiment);
        DuplicatesSkipped.Add(0, tag);
        ShedRecords.Add(0, tag, new KeyValuePair<string, object?>("kind", "shadow"));
        ShedRecords.Add(0, tag, new KeyValuePair<string, object?>("kind", "challenger"));
    }

    /// <summary>Reports the shedding level from now on (the router has one shedder).</summary>
    public void TrackShedLevel(Func<int> level) => _shedLevel = level;

    /// <summary>Records a Prediction acknowledged <paramref name="elapsed"/> after its record's event time.</summary>
    public void RecordEndToEnd(string experiment, string arm, TimeSpan elapsed) =>
        _endToEnd.Record(Math.Max(elapsed.TotalSeconds, 0), new KeyValuePair<string, object?>("experiment", experiment), new KeyValuePair<string, object?>("arm", arm));

    /// <summary>Reports an arm's batches in flight from now on (arms live as long as the process).</summary>
    public void TrackInFlight(KeyValuePair<string, object?>[] armTags, Func<int> inFlight) => _inFlight[KeyOf(armTags)] = (armTags, inFlight);

    /// <summary>Reports an arm's circuit state from now on.</summary>
    public void TrackCircuit(KeyValuePair<string, object?>[] armTags, Func<CircuitState> state) => _circuits[KeyOf(armTags)] = (armTags, state);

    /// <summary>
    /// Stops reporting the in-flight and circuit gauges of the arm whose tags are <paramref name="armTags"/> (the same
    /// array it was tracked with), and only that arm's: a newer runtime of the same experiment and arm keeps its series.
    /// </summary>
    public void Untrack(KeyValuePair<string, object?>[] armTags)
    {
        var key = KeyOf(armTags);
        if (_inFlight.TryGetValue(key, out var inFlight) && ReferenceEquals(inFlight.Tags, armTags))
        {
            _inFlight.TryRemove(KeyValuePair.Create(key, inFlight));
        }

        if (_circuits.TryGetValue(key, out var circuit) && ReferenceEquals(circuit.Tags, armTags))
        {
            _circuits.TryRemove(KeyValuePair.Create(key, circuit));
        }
    }

    private static string KeyOf(KeyValuePair<string, object?>[] tags) => string.Join('\n', tags.Select(t => t.Value));

    private IEnumerable<Measurement<int>> ObserveInFlight() => _inFlight.Values.Select(a => new Measurement<int>(a.Value(), a.Tags));

    private IEnumerable<Measurement<int>> ObserveCircuits()
    {
        foreach (var (tags, state) in _circuits.Values)
        {
            var current = state();
            foreach (var candidate in s_circuitStates)
            {
                yield return new Measurement<int>(current == candidate ? 1 : 0, [.. tags, new("state", StateName(candidate))]);
            }
        }
    }

    private static string StateName(CircuitState state) => state switch
    {
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "closed",
    };
}
