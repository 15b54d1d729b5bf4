using Google.Protobuf.Reflection;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>A topic and the mesh.v1 message its values carry: one subject in the registry.</summary>
public sealed record MeshSchema(string Topic, MessageDescriptor Descriptor);
