namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// A framed value this reader cannot decode: its schema id is unknown to the registry, or its schema describes
/// another message than the reader's. The message names the id and the subject; services dead-letter the record
/// with it (error class <c>decode</c>).
/// </summary>
public sealed class UndecodableValueException(int schemaId, string subject, string message) : Exception(message)
{
    public int SchemaId { get; } = schemaId;

    public string Subject { get; } = subject;
}
