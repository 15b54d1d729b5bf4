using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mesh.ModelHost.Models;

/// <summary>Degraded (still serving) while a served MLflow model's URI does not resolve, with the reason.</summary>
internal sealed class MlflowResolveHealthCheck(MlflowModelSource source) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var unresolved = source.Unresolved;
        return Task.FromResult(unresolved.Count == 0
            ? HealthCheckResult.Healthy("every MLflow model URI resolves")
            : HealthCheckResult.Degraded(string.Join("; ", unresolved.Select(u => $"{u.Model} keeps serving version {u.Version}: {u.Reason}"))));
    }
}
