using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.Producer.Telemetry;

/// <summary>The producer's one Meter and ActivitySource; traces of the mesh start at the records sent here.</summary>
internal sealed class ProducerTelemetry
{
    public const string Name = "Mesh.Producer";

    private static readonly ActivitySource s_activitySource = new(Name);

    public ProducerTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        RecordsSent = meter.CreateCounter<long>("mesh.producer.records.sent", description: "Feature records handed to Kafka.");
        RecordsAcked = meter.CreateCounter<long>("mesh.producer.records.acked", description: "Feature records acknowledged by Kafka.");
        RecordsFailed = meter.CreateCounter<long>("mesh.producer.records.failed", description: "Feature records Kafka failed to deliver.");
        LabelsSent = meter.CreateCounter<long>("mesh.producer.labels.sent", description: "Labels handed to Kafka.");
        LabelsAcked = meter.CreateCounter<long>("mesh.producer.labels.acked", description: "Labels acknowledged by Kafka.");
        LabelsFailed = meter.CreateCounter<long>("mesh.producer.labels.failed", description: "Labels Kafka failed to deliver.");
        BadRows = meter.CreateCounter<long>("mesh.producer.csv.bad_rows", description: "CSV rows skipped as malformed.");
    }

    public static ActivitySource ActivitySource => s_activitySource;

    public Counter<long> RecordsSent { get; }

    public Counter<long> RecordsAcked { get; }

    public Counter<long> RecordsFailed { get; }

    public Counter<long> LabelsSent { get; }

    public Counter<long> LabelsAcked { get; }

    public Counter<long> LabelsFailed { get; }

    public Counter<long> BadRows { get; }

    /// <summary>
    /// Puts every counter on /metrics at zero, so an alert on its rate reads 0 rather than "no data". Called once the
    /// meter provider listens (a measurement before that is lost).
    /// </summary>
    public void AddZeros()
    {
        foreach (var counter in (Counter<long>[])[RecordsSent, RecordsAcked, RecordsFailed, LabelsSent, LabelsAcked, LabelsFailed, BadRows])
        {
            counter.Add(0);
        }
    }
}
