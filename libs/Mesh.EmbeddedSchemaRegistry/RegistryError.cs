namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>An error answer: HTTP status, Confluent error code and message.</summary>
public sealed record RegistryError(int Status, int ErrorCode, string Message)
{
    public static RegistryError SubjectNotFound(string subject) => new(404, 40401, $"Subject '{subject}' not found.");
}
