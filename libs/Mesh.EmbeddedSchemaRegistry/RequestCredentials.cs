namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>
/// What a request carried for authentication: the <c>Authorization</c> header (basic or bearer), and the
/// <c>target-sr-cluster</c> and <c>Confluent-Identity-Pool-Id</c> headers Confluent's clients add to a bearer token.
/// </summary>
public sealed record RequestCredentials(string? Authorization, string? LogicalCluster, string? IdentityPoolId);
