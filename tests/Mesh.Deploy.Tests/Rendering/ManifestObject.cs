namespace Mesh.Deploy.Tests.Rendering;

/// <summary>One rendered object: its identity, its YAML text (for the typed models) and its tree (for checks).</summary>
internal sealed record ManifestObject(string ApiVersion, string Kind, string Name, string Namespace, string Yaml, YamlMappingNode Root)
{
    /// <summary>How failures name the object: <c>Deployment/router</c>.</summary>
    public string Id => $"{Kind}/{Name}";

    public bool Is(string apiVersion, string kind) => ApiVersion == apiVersion && Kind == kind;
}
