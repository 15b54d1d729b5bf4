using Mesh.Mlflow.Profiles;

namespace Mesh.MetricsSink.Drift;

/// <summary>Where a served model version's reference profile comes from; null when it has none.</summary>
internal interface IReferenceProfileSource
{
    public Task<ReferenceProfile?> FindAsync(string model, string version, CancellationToken cancellationToken);
}
