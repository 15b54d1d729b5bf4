using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mesh.ServiceDefaults.Telemetry;

namespace Mesh.Consumer.Telemetry;

/// <summary>The consumer's one Meter and ActivitySource.</summary>
internal sealed class ConsumerTelemetry
{
    public const string Name = "Mesh.Consumer";

    private static readonly ActivitySource s_activitySource = new(Name);

    private readonly ZeroedCounters _zeroed;

    public ConsumerTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _zeroed = new ZeroedCounters(meter);
        Written = _zeroed.Create("mesh.consumer.records.written", "Predictions written to the output.");
        Filtered = _zeroed.Create("mesh.consumer.records.filtered", "Predictions left out by the experiment, arm and model filters.");
        Tombstones = _zeroed.Create("mesh.consumer.records.tombstones", "Records without a value (tombstones), skipped.");
        Duplicates = _zeroed.Create("mesh.consumer.records.duplicates", "Predictions not written because their request id was written already (a replay or a redelivery).");
        DeadLettered = _zeroed.Create("mesh.consumer.records.dead_lettered", "Records sent to the dead-letter topic.");
        Flushes = _zeroed.Create("mesh.consumer.flushes", "Flushes of the output after which offsets were stored.");
    }

    public static ActivitySource ActivitySource => s_activitySource;

    public Counter<long> Written { get; }

    public Counter<long> Filtered { get; }

    public Counter<long> Tombstones { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> DeadLettered { get; }

    public Counter<long> Flushes { get; }

    /// <summary>Puts every untagged counter on /metrics at zero once the meter provider listens (<see cref="ZeroedCounters"/>).</summary>
    public void AddZeros() => _zeroed.AddZeros();
}
