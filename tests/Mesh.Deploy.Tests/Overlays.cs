namespace Mesh.Deploy.Tests;

/// <summary>Theory data: every kustomize folder a user applies.</summary>
public sealed class Overlays : TheoryData<string>
{
    public Overlays()
    {
        foreach (var overlay in Kustomize.Overlays)
        {
            Add(overlay);
        }
    }
}
