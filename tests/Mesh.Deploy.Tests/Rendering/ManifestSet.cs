namespace Mesh.Deploy.Tests.Rendering;

/// <summary>The objects one overlay renders to.</summary>
internal sealed class ManifestSet(string folder, IReadOnlyList<ManifestObject> objects)
{
    public string Folder { get; } = folder;

    public IReadOnlyList<ManifestObject> Objects { get; } = objects;

    public IEnumerable<ManifestObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public ManifestObject? Find(string kind, string name) => Objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);

    /// <summary>Replaces one object (tests break a manifest on purpose and check that the checks notice).</summary>
    public ManifestSet With(ManifestObject replaced) =>
        new(Folder, Objects.Select(o => o.Kind == replaced.Kind && o.Name == replaced.Name ? replaced : o).ToList());

    public static ManifestSet Parse(string folder, string text)
    {
        var objects = new List<ManifestObject>();
        foreach (var document in SplitDocuments(text))
        {
            objects.Add(ParseObject(document));
        }

        return new ManifestSet(folder, objects);
    }

    public static ManifestObject ParseObject(string document)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(document));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var metadata = YamlPaths.Mapping(root, "metadata");
        return new ManifestObject(
            YamlPaths.Scalar(root, "apiVersion") ?? "",
            YamlPaths.Scalar(root, "kind") ?? "",
            metadata is null ? "" : YamlPaths.Scalar(metadata, "name") ?? "",
            metadata is null ? "" : YamlPaths.Scalar(metadata, "namespace") ?? "",
            document,
            root);
    }

    private static IEnumerable<string> SplitDocuments(string text)
    {
        var current = new System.Text.StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            if (line.TrimEnd() == "---")
            {
                if (current.ToString().Trim().Length > 0)
                {
                    yield return current.ToString();
                }

                current.Clear();
                continue;
            }

            current.Append(line).Append('\n');
        }

        if (current.ToString().Trim().Length > 0)
        {
            yield return current.ToString();
        }
    }
}
