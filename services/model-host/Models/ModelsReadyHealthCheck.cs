using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mesh.ModelHost.Models;

internal sealed class ModelsReadyHealthCheck(ModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.IsReady
            ? HealthCheckResult.Healthy($"{catalog.Slots.Count(s => s.Model is not null)} model version(s) loaded")
            : HealthCheckResult.Unhealthy("models are loading, or no version of any model serves now"));
}
