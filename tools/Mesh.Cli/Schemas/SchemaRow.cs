namespace Mesh.Cli.Schemas;

/// <summary>One subject's line of the <c>mesh schemas</c> table.</summary>
internal sealed record SchemaRow(string Subject, string Message, string Version, int? Id, string Compatibility, string Result, bool Compatible);
