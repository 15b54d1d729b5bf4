using Google.Protobuf;
using Mesh.Contracts.V1;

namespace Mesh.Cli.DeadLetters;

/// <summary>The dead letters of a topic, parsed; records that are not dead letters are counted, not hidden.</summary>
internal sealed class DeadLetterSource(TopicSnapshotReader reader)
{
    public DeadLetterSnapshot Read(string topic, CancellationToken cancellationToken)
    {
        var entries = new List<DeadLetterEntry>();
        var unreadable = 0;
        foreach (var record in reader.Read(topic, cancellationToken))
        {
            try
            {
                var letter = DeadLetter.Parser.ParseFrom(record.Message.Value ?? []);
                entries.Add(new DeadLetterEntry(topic, record.Partition.Value, record.Offset.Value, record.Message.Timestamp.UtcDateTime, letter));
            }
            catch (InvalidProtocolBufferException)
            {
                unreadable++;
            }
        }

        return new DeadLetterSnapshot(entries, unreadable);
    }
}
