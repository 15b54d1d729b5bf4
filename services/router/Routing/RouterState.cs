using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mesh.Router.Hosting;

internal enum RouterStatus
{
    Starting,
    Consuming,
    Stopping,
    Failed,
}

/// <summary>Where the consume loop is, for <c>/health</c>: a router waiting for its model hosts is not ready.</summary>
internal sealed class RouterState
{
    private volatile RouterStatus _status = RouterStatus.Starting;

    public RouterStatus Status => _status;

    public void Set(RouterStatus status) => _status = status;
}

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
