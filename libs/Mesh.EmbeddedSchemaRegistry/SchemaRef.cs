namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>A schema's reference to another subject's version (an import).</summary>
public sealed record SchemaRef(string Name, string Subject, int Version);
