namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>A registered schema and its global id.</summary>
public sealed record StoredSchema(int Id, SchemaRequest Request)
{
    public bool SameAs(SchemaRequest other) =>
        Request.SchemaType == other.SchemaType && Request.Schema == other.Schema && Request.References.SequenceEqual(other.References);
}
