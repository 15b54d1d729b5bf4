using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Experiments.Dapr;

/// <summary>Degraded, not unhealthy, while the store is away: the router keeps routing with the last good spec.</summary>
internal sealed class DaprSourceHealthCheck(DaprSourceState state, IOptions<ExperimentSourceOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.LostReason is { } reason
            ? HealthCheckResult.Degraded($"Dapr configuration store '{options.Value.Dapr.Store}' unreachable, the last good experiment spec stays: {reason}")
            : HealthCheckResult.Healthy($"subscribed to Dapr configuration store '{options.Value.Dapr.Store}'"));
}
