using Mesh.MetricsSink.Promotion;
using Mesh.Mlflow;
using Mesh.Mlflow.Profiles;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// A registered model version's <c>reference_profile.json</c>, beside its <c>MLmodel</c> in the artifact store: the
/// served model resolved to its registered model the way promotion does (the spec's <c>modelUri</c>, or <c>MetricsSink:ModelUris</c>), then the served
/// version's files through the tracking server.
/// </summary>
internal sealed class MlflowReferenceProfiles(MlflowClient client, RegisteredModelNames names) : IReferenceProfileSource
{
    public async Task<ReferenceProfile?> FindAsync(string model, string version, CancellationToken cancellationToken)
    {
        // The version the arm serves, of the registered model it comes from (an alias may have moved on since); a run's
        // or logged model's URI names the files themselves.
        var registered = names.RegisteredName(model, version);
        var text = registered is null ? names.ModelUri(model, version) : $"models:/{registered}/{version}";
        if (!MlflowModelUri.TryParse(text, out var uri, out _) || uri is null)
        {
            return null;
        }

        var resolved = await uri.ResolveAsync(client, cancellationToken);
        var folder = Path.Combine(Path.GetTempPath(), "mesh-profile-" + Guid.NewGuid().ToString("N"));
        try
        {
            await client.DownloadArtifactsAsync(resolved.ArtifactUri.TrimEnd('/') + "/" + ReferenceProfile.FileName, folder, cancellationToken);
            return ReferenceProfile.Parse(await File.ReadAllTextAsync(Path.Combine(folder, ReferenceProfile.FileName), cancellationToken));
        }
        catch (MlflowResourceNotFoundException)
        {
            // A model logged without one: the sink takes the first records instead.
            return null;
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
