using System.ComponentModel.DataAnnotations;

namespace Mesh.Kafka;

/// <summary>
/// How long a lost broker is tolerated (section <c>Kafka:Health</c>). librdkafka retries a dead broker for ever
/// as a transient error; these bounds turn a lasting outage into an unhealthy <c>/health</c> (so the orchestrator
/// stops routing to the instance) and then into a non-zero exit (so it is restarted).
/// </summary>
public sealed class KafkaHealthOptions
{
    /// <summary>Seconds without any reachable broker after which <c>/health</c> reports unhealthy.</summary>
    [Range(0, 3600)]
    public int UnhealthyAfterSeconds { get; set; } = 15;

    /// <summary>Seconds without any reachable broker after which the process exits with <see cref="FatalError.ExitCode"/>.</summary>
    [Range(1, 86_400)]
    public int ExitAfterSeconds { get; set; } = 60;

    /// <summary>How often librdkafka reports its brokers' connection states (<c>statistics.interval.ms</c>).</summary>
    [Range(100, 60_000)]
    public int StatisticsIntervalMs { get; set; } = 1000;
}
