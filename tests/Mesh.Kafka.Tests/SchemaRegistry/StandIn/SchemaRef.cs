namespace Mesh.Kafka.Tests.SchemaRegistry.StandIn;

/// <summary>A schema's reference to another subject's version (an import).</summary>
internal sealed record SchemaRef(string Name, string Subject, int Version);
