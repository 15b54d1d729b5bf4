namespace Mesh.Deploy.Tests.Rendering;

/// <summary>Small reads from a YAML tree, and every leaf path of it (<c>spec.triggers[].metadata.topic</c>).</summary>
internal static class YamlPaths
{
    public static YamlMappingNode? Mapping(YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child as YamlMappingNode : null;

    public static YamlSequenceNode? Sequence(YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child as YamlSequenceNode : null;

    public static string? Scalar(YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var child) ? (child as YamlScalarNode)?.Value : null;

    /// <summary>Follows dotted keys through mappings: <c>At(root, "spec", "template", "spec")</c>.</summary>
    public static YamlMappingNode? At(YamlNode? node, params string[] keys)
    {
        foreach (var key in keys)
        {
            node = Mapping(node, key);
        }

        return node as YamlMappingNode;
    }

    public static IEnumerable<YamlMappingNode> Items(YamlNode? node, string key) =>
        Sequence(node, key)?.Children.OfType<YamlMappingNode>() ?? [];

    public static IReadOnlyDictionary<string, string> StringMap(YamlNode? node) =>
        node is YamlMappingNode map
            ? map.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => (c.Value as YamlScalarNode)?.Value ?? "", StringComparer.Ordinal)
            : new Dictionary<string, string>();

    /// <summary>Every leaf (a scalar, an empty mapping or an empty sequence) as a path; sequence items are <c>[]</c>.</summary>
    public static IEnumerable<string> LeafPaths(YamlNode node, string prefix = "")
    {
        switch (node)
        {
            case YamlMappingNode map when map.Children.Count > 0:
                foreach (var (key, value) in map.Children)
                {
                    var name = ((YamlScalarNode)key).Value!;
                    foreach (var path in LeafPaths(value, prefix.Length == 0 ? name : prefix + "." + name))
                    {
                        yield return path;
                    }
                }

                break;
            case YamlSequenceNode sequence when sequence.Children.Count > 0:
                foreach (var item in sequence.Children)
                {
                    foreach (var path in LeafPaths(item, prefix + "[]"))
                    {
                        yield return path;
                    }
                }

                break;
            default:
                yield return prefix;
                break;
        }
    }
}
