namespace Mesh.Cli.DeadLetters;

/// <summary>What sending a plan achieved: acknowledged by Kafka, or failed with the delivery report's reason.</summary>
internal sealed record ReplayDelivery(int Acknowledged, IReadOnlyList<(ReplayItem Item, string Reason)> Failures);
