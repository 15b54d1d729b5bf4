using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.MetricsSink.Telemetry;

/// <summary>The metrics sink's one Meter and ActivitySource.</summary>
internal sealed class MetricsSinkTelemetry
{
    public const string Name = "Mesh.MetricsSink";

    private static readonly ActivitySource s_activitySource = new(Name);

    public MetricsSinkTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        Predictions = meter.CreateCounter<long>("mesh.metrics_sink.predictions", description: "Distinct predictions applied.");
        Labels = meter.CreateCounter<long>("mesh.metrics_sink.labels", description: "Labels applied.");
        Joined = meter.CreateCounter<long>("mesh.metrics_sink.joins", description: "Records that completed a prediction-label join.");
        Duplicates = meter.CreateCounter<long>("mesh.metrics_sink.duplicates", description: "Redelivered records counted once.");
        UnmatchedLabels = meter.CreateCounter<long>("mesh.metrics_sink.unmatched_labels", description: "Labels expired without a prediction.");
        UnjoinedPredictions = meter.CreateCounter<long>("mesh.metrics_sink.unjoined_predictions", description: "Predictions expired without a label.");
        DeadLettered = meter.CreateCounter<long>("mesh.metrics_sink.dead_lettered", description: "Records sent to the dead-letter topic.");
    }

    public static ActivitySource ActivitySource => s_activitySource;

    public Counter<long> Predictions { get; }

    public Counter<long> Labels { get; }

    public Counter<long> Joined { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> UnmatchedLabels { get; }

    public Counter<long> UnjoinedPredictions { get; }

    public Counter<long> DeadLettered { get; }
}
