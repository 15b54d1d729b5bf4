using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.Consumer.Telemetry;

/// <summary>The consumer's one Meter and ActivitySource.</summary>
internal sealed class ConsumerTelemetry
{
    public const string Name = "Mesh.Consumer";

    private static readonly ActivitySource s_activitySource = new(Name);

    public ConsumerTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        Written = meter.CreateCounter<long>("mesh.consumer.records.written", description: "Predictions written to the output.");
        Filtered = meter.CreateCounter<long>("mesh.consumer.records.filtered", description: "Predictions left out by the experiment, arm and model filters.");
        Tombstones = meter.CreateCounter<long>("mesh.consumer.records.tombstones", description: "Records without a value (tombstones), skipped.");
        Duplicates = meter.CreateCounter<long>("mesh.consumer.records.duplicates", description: "Predictions not written because their request id was written already (a replay or a redelivery).");
        DeadLettered = meter.CreateCounter<long>("mesh.consumer.records.dead_lettered", description: "Records sent to the dead-letter topic.");
        Flushes = meter.CreateCounter<long>("mesh.consumer.flushes", description: "Flushes of the output after which offsets were stored.");
    }

    public static ActivitySource ActivitySource => s_activitySource;

    public Counter<long> Written { get; }

    public Counter<long> Filtered { get; }

    public Counter<long> Tombstones { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> DeadLettered { get; }

    public Counter<long> Flushes { get; }

    /// <summary>
    /// Puts every counter on /metrics at zero, so an alert on its rate reads 0 rather than "no data". Called once the
    /// meter provider listens (a measurement before that is lost).
    /// </summary>
    public void AddZeros()
    {
        foreach (var counter in (Counter<long>[])[Written, Filtered, Tombstones, Duplicates, DeadLettered, Flushes])
        {
            counter.Add(0);
        }
    }
}
