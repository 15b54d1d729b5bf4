namespace Mesh.Kafka.SchemaRegistry;

/// <summary>The registry refused a writer's schema (incompatible with the subject's, or invalid), or does not hold it when auto-registration is off.</summary>
public sealed class SchemaRegistrationException(string subject, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Subject { get; } = subject;
}
