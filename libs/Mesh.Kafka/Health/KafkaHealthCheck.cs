using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mesh.Kafka.Health;

/// <summary>The <c>kafka</c> entry of <c>/health</c>: not ready until connected and assigned, unhealthy during a lasting outage.</summary>
internal sealed class KafkaHealthCheck(KafkaHealth health) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var verdict = health.Evaluate();
        return Task.FromResult(new HealthCheckResult(verdict.Status == HealthStatus.Healthy ? HealthStatus.Healthy : context.Registration.FailureStatus, verdict.Description));
    }
}
