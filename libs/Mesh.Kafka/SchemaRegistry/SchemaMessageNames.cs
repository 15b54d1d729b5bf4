using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// The full names of a registered schema's messages by index path, built once per schema id, so that finding which
/// message a framed value claims to be costs a few array reads and no allocation.
/// </summary>
internal sealed class SchemaMessageNames
{
    private readonly Node[] _roots;

    private SchemaMessageNames(Node[] roots) => _roots = roots;

    /// <summary>Reads a schema the registry returned in its serialized form (base64 FileDescriptorProto).</summary>
    public static SchemaMessageNames? TryParse(string schemaString)
    {
        FileDescriptorProto file;
        try
        {
            file = FileDescriptorProto.Parser.ParseFrom(Convert.FromBase64String(schemaString));
        }
        catch (Exception e) when (e is FormatException or InvalidProtocolBufferException)
        {
            return null;
        }

        var prefix = string.IsNullOrEmpty(file.Package) ? "" : file.Package + ".";
        return new SchemaMessageNames([.. file.MessageType.Select(m => Build(prefix, m))]);
    }

    /// <summary>The message at this index path, or null when the schema has none there.</summary>
    public string? Find(ReadOnlySpan<int> path)
    {
        var level = _roots;
        Node? node = null;
        foreach (var index in path)
        {
            if (index >= level.Length)
            {
                return null;
            }

            node = level[index];
            level = node.Nested;
        }

        return node?.FullName;
    }

    private static Node Build(string prefix, DescriptorProto message)
    {
        var fullName = prefix + message.Name;
        return new Node(fullName, [.. message.NestedType.Select(n => Build(fullName + ".", n))]);
    }

    private sealed record Node(string FullName, Node[] Nested);
}
