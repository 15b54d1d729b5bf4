using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mesh.ServiceDefaults.Telemetry;

namespace Mesh.Producer.Telemetry;

/// <summary>The producer's one Meter and ActivitySource; traces of the mesh start at the records sent here.</summary>
internal sealed class ProducerTelemetry
{
    public const string Name = "Mesh.Producer";

    private static readonly ActivitySource s_activitySource = new(Name);

    private readonly ZeroedCounters _zeroed;

    public ProducerTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _zeroed = new ZeroedCounters(meter);
        RecordsSent = _zeroed.Create("mesh.producer.records.sent", "Feature records handed to Kafka.");
        RecordsAcked = _zeroed.Create("mesh.producer.records.acked", "Feature records acknowledged by Kafka.");
        RecordsFailed = _zeroed.Create("mesh.producer.records.failed", "Feature records Kafka failed to deliver.");
        LabelsSent = _zeroed.Create("mesh.producer.labels.sent", "Labels handed to Kafka.");
        LabelsAcked = _zeroed.Create("mesh.producer.labels.acked", "Labels acknowledged by Kafka.");
        LabelsFailed = _zeroed.Create("mesh.producer.labels.failed", "Labels Kafka failed to deliver.");
        BadRows = _zeroed.Create("mesh.producer.csv.bad_rows", "CSV rows skipped as malformed.");
    }

    public static ActivitySource ActivitySource => s_activitySource;

    public Counter<long> RecordsSent { get; }

    public Counter<long> RecordsAcked { get; }

    public Counter<long> RecordsFailed { get; }

    public Counter<long> LabelsSent { get; }

    public Counter<long> LabelsAcked { get; }

    public Counter<long> LabelsFailed { get; }

    public Counter<long> BadRows { get; }

    /// <summary>Puts every untagged counter on /metrics at zero once the meter provider listens (<see cref="ZeroedCounters"/>).</summary>
    public void AddZeros() => _zeroed.AddZeros();
}
