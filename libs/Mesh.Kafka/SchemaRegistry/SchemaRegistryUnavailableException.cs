namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// The registry did not answer (connection refused, a timeout, 5xx) for longer than
/// <see cref="SchemaRegistryOptions.UnavailableRetryMs"/> while a writer registered a subject it had not cached, or a
/// reader looked up a schema id it had not cached. The record was held, not written or dead-lettered: services let this
/// reach their fatal path (exit 70), so they restart from the last committed offset once the registry is back.
/// </summary>
public sealed class SchemaRegistryUnavailableException(string subject, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The subject being registered, or the one a read value's topic maps to.</summary>
    public string Subject { get; } = subject;
}
