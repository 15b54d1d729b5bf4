using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.Router.Telemetry;

/// <summary>The router's one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named "Mesh.Router".</summary>
internal sealed class RouterTelemetry
{
    public const string Name = "Mesh.Router";

    public static readonly ActivitySource Source = new(Name);

    public RouterTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        Records = meter.CreateCounter<long>("mesh.router.records", "{record}", "Feature records consumed.");
        Predictions = meter.CreateCounter<long>("mesh.router.predictions", "{prediction}", "Predictions produced and acknowledged.");
        DeadLetters = meter.CreateCounter<long>("mesh.router.dead_letters", "{record}", "Records sent to the dead-letter topic, by error class.");
        BatchSize = meter.CreateHistogram<int>("mesh.router.batch.size", "{record}", "Records per ModelInfer call.");
        InferenceDuration = meter.CreateHistogram<double>("mesh.router.inference.duration", "ms", "ModelInfer call latency per batch.");
        ShadowPredictions = meter.CreateCounter<long>("mesh.router.shadow.predictions", "{prediction}", "Shadow predictions produced and acknowledged.");
        ShadowShed = meter.CreateCounter<long>("mesh.router.shadow.shed", "{record}", "Records not copied to a shadow because its batches were all busy.");
        ShadowFailures = meter.CreateCounter<long>("mesh.router.shadow.failures", "{record}", "Records a shadow failed to score.");
        Fallbacks = meter.CreateCounter<long>("mesh.router.fallbacks", "{record}", "Records answered by the fallback arm, by the arm that failed.");
        CircuitRejections = meter.CreateCounter<long>("mesh.router.circuit.rejections", "{record}", "Records not sent to an arm because its circuit was open.");
        Pauses = meter.CreateCounter<long>("mesh.router.pauses", "{pause}", "Times the consume thread paused its partitions because an arm's batches were all in flight.");
        RateLimited = meter.CreateCounter<long>("mesh.router.rate_limited", "{record}", "Records that waited for their experiment's rate limit.");
        HostUnavailableWaits = meter.CreateCounter<long>("mesh.router.host_unavailable_waits", "{call}", "ModelInfer calls that found the model host unreachable while the arm had no fallback; the batch was held and retried.");
        HostBusy = meter.CreateCounter<long>("mesh.router.host_busy", "{call}", "ModelInfer calls a model host refused with RESOURCE_EXHAUSTED (its queue was full) and the router retried.");
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
}
