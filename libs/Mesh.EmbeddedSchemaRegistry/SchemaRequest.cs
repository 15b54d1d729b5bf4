using System.Text.Json.Nodes;

namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>A schema as a client sent it: type, schema string and references.</summary>
public sealed record SchemaRequest(string SchemaType, string Schema, IReadOnlyList<SchemaRef> References)
{
    public JsonArray ReferencesJson() =>
        [.. References.Select(r => (JsonNode)new JsonObject { ["name"] = r.Name, ["subject"] = r.Subject, ["version"] = r.Version })];
}
