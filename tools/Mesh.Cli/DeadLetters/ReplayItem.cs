using Confluent.Kafka;

namespace Mesh.Cli.DeadLetters;

/// <summary>One record a replay sends: from which dead letter, to which topic, and the message itself.</summary>
internal sealed record ReplayItem(DeadLetterEntry Entry, string Topic, string RequestId, Message<byte[], byte[]> Message);
