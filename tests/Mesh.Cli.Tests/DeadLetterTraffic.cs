using ProtoTimestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Mesh.Cli.Tests;

/// <summary>Dead letters as the services write them (a FeatureRecord's bytes inside), produced to a test topic.</summary>
internal static class DeadLetterTraffic
{
    public static FeatureRecord Feature(string requestId, params float[] values) => new()
    {
        RequestId = requestId,
        EntityId = "entity-" + requestId,
        FeatureSet = "iris",
        Values = { values.Length == 0 ? [5.1f, 3.5f, 1.4f, 0.2f] : values },
        Names = { "sepal_length", "sepal_width", "petal_length", "petal_width" },
        Context = { ["tenant"] = "t1" },
    };

    public static DeadLetter Letter(FeatureRecord feature, string sourceTopic, string errorClass, string message, string service = "router",
        string experiment = "iris-ab", string arm = "logreg", int attempt = 1, DateTime? time = null)
    {
        var letter = new DeadLetter
        {
            SourceTopic = sourceTopic,
            Partition = 1,
            Offset = 40,
            Key = ByteString.CopyFromUtf8(feature.EntityId),
            Value = feature.ToByteString(),
            ErrorClass = errorClass,
            ErrorMessage = message,
            Service = service,
            Time = ProtoTimestamp.FromDateTime(time ?? DateTime.UtcNow),
            Attempt = attempt,
            Experiment = experiment,
            Arm = arm,
        };
        letter.Headers[MeshHeaders.ContentType] = ByteString.CopyFromUtf8(MeshHeaders.ContentTypeOf<FeatureRecord>());
        letter.Headers[MeshHeaders.TraceParent] = ByteString.CopyFromUtf8("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        return letter;
    }

    /// <summary>Produces the letters in order to partition 0 of <paramref name="topic"/>, so their offsets are 0, 1, 2, ...</summary>
    public static void Produce(string bootstrapServers, string topic, IEnumerable<DeadLetter> letters)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, EnableIdempotence = true }).Build();
        foreach (var letter in letters)
        {
            producer.Produce(new TopicPartition(topic, 0), new Message<byte[], byte[]>
            {
                Key = letter.Key.ToByteArray(),
                Value = letter.ToByteArray(),
                Headers = MeshHeaders.Create<DeadLetter>(null),
            });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }
}
