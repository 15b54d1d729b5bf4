using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mesh.Kafka.Health;

/// <summary>The health of Kafka now; <see cref="ExitCode"/> is set when the process must end, with <see cref="ExitReason"/>.</summary>
public sealed record KafkaVerdict(HealthStatus Status, string Description, int? ExitCode, string? ExitReason)
{
    internal static KafkaVerdict Exit(int code, string reason) => new(HealthStatus.Unhealthy, reason, code, reason);
}
