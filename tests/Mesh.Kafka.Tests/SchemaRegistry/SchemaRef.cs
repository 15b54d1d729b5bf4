namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>A schema's reference to another subject's version (an import).</summary>
internal sealed record SchemaRef(string Name, string Subject, int Version);
