using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mesh.Router.Routing;

internal sealed class RouterHealthCheck(RouterState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.Status switch
        {
            RouterStatus.Consuming => HealthCheckResult.Healthy("consuming"),
            RouterStatus.Starting => HealthCheckResult.Unhealthy("waiting for the model hosts and the Kafka cluster"),
            RouterStatus.Stopping => HealthCheckResult.Unhealthy("stopping"),
            _ => HealthCheckResult.Unhealthy("the consume loop failed"),
        });
}
