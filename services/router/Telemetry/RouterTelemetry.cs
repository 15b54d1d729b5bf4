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
    }

    public Counter<long> Records { get; }

    public Counter<long> Predictions { get; }

    public Counter<long> DeadLetters { get; }

    public Histogram<int> BatchSize { get; }

    public Histogram<double> InferenceDuration { get; }
}
