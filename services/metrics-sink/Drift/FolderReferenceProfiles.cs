using Mesh.Mlflow.Profiles;

namespace Mesh.MetricsSink.Drift;

/// <summary>Profiles in a model repository as <c>mesh train</c> writes it: <c>&lt;root&gt;/&lt;model&gt;/&lt;version&gt;/reference_profile.json</c>.</summary>
internal sealed class FolderReferenceProfiles(string root) : IReferenceProfileSource
{
    public async Task<ReferenceProfile?> FindAsync(string model, string version, CancellationToken cancellationToken)
    {
        // Names from the stream must not climb out of the repository.
        if (model.Contains("..", StringComparison.Ordinal) || version.Contains("..", StringComparison.Ordinal)
            || model.IndexOfAny(['/', '\\']) >= 0 || version.IndexOfAny(['/', '\\']) >= 0)
        {
            return null;
        }

        var path = Path.Combine(root, model, version, ReferenceProfile.FileName);
        return File.Exists(path) ? ReferenceProfile.Parse(await File.ReadAllTextAsync(path, cancellationToken)) : null;
    }
}
