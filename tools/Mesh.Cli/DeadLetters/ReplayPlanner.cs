using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.Kafka;

namespace Mesh.Cli.DeadLetters;

/// <summary>Turns chosen dead letters into the records to send; pure, so what a dry run prints is what a replay sends.</summary>
internal static class ReplayPlanner
{
    public static ReplayPlan Plan(IEnumerable<DeadLetterEntry> entries, ReplayRules rules)
    {
        var chosen = entries.ToList();

        // A record that failed again has a newer dead letter with a higher attempt; only that one is sent, once.
        var latest = chosen
            .Select(e => (Entry: e, RequestId: RecordValue.RequestId(e.Letter.Value)))
            .Where(x => x.RequestId.Length > 0)
            .GroupBy(x => x.RequestId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(x => (x.Entry.Attempt, x.Entry.Time, x.Entry.Offset)).Entry, StringComparer.Ordinal);

        var items = new List<ReplayItem>();
        var notSendable = new List<(DeadLetterEntry, string)>();
        int attempts = 0, predicted = 0, superseded = 0;
        foreach (var entry in chosen)
        {
            var requestId = RecordValue.RequestId(entry.Letter.Value);
            if (entry.Attempt >= rules.MaxAttempts)
            {
                attempts++;
            }
            else if (requestId.Length > 0 && rules.Predicted?.Contains(requestId) == true)
            {
                predicted++;
            }
            else if (requestId.Length > 0 && !ReferenceEquals(latest[requestId], entry))
            {
                superseded++;
            }
            else if (entry.Letter.OmittedValueBytes > 0)
            {
                notSendable.Add((entry, $"the original value ({entry.Letter.OmittedValueBytes} bytes) was too large to carry in the dead letter; " +
                    $"it is at {entry.Letter.SourceTopic}[{entry.Letter.Partition}]@{entry.Letter.Offset} while that topic retains it"));
            }
            else if (Build(entry, requestId, rules) is { } item)
            {
                items.Add(item);
            }
            else
            {
                notSendable.Add((entry, rules.To is null && entry.Letter.SourceTopic.Length == 0
                    ? "the dead letter names no source topic (give --to)"
                    : "the fix-ups apply to FeatureRecords and this value is not one"));
            }
        }

        return new ReplayPlan(items, attempts, predicted, superseded, notSendable);
    }

    private static ReplayItem? Build(DeadLetterEntry entry, string requestId, ReplayRules rules)
    {
        var topic = rules.To ?? entry.Letter.SourceTopic;
        if (topic.Length == 0)
        {
            return null;
        }

        var value = entry.Letter.Value.ToByteArray();
        if (rules.FixUps.Count > 0)
        {
            if (!IsFeatureRecord(entry.Letter, value, out var feature))
            {
                return null;
            }

            foreach (var fixUp in rules.FixUps)
            {
                fixUp.Apply(feature);
            }

            value = feature.ToByteArray();
        }

        return new ReplayItem(entry, topic, requestId, new Confluent.Kafka.Message<byte[], byte[]>
        {
            // The original record had no key when the dead letter carries none; an empty key would move it to another partition.
            Key = entry.Letter.Key.IsEmpty ? null! : entry.Letter.Key.ToByteArray(),
            Value = value,
            Headers = ReplayHeaders.Build(entry),
        });
    }

    private static bool IsFeatureRecord(DeadLetter letter, byte[] value, out FeatureRecord feature)
    {
        feature = new FeatureRecord();
        if (letter.Headers.TryGetValue(MeshHeaders.ContentType, out var type)
            && type.ToStringUtf8() != MeshHeaders.ContentTypeOf<FeatureRecord>())
        {
            return false;
        }

        try
        {
            feature = FeatureRecord.Parser.ParseFrom(value);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }
}
