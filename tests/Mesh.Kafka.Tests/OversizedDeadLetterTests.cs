namespace Mesh.Kafka.Tests;

/// <summary>
/// A record whose dead letter is too large for Kafka (it carries the original value) must still be dead-lettered,
/// or its partition's offsets would never move past it: it goes without the value, and says where the value is.
/// </summary>
public sealed class OversizedDeadLetterTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Publish_OriginalLargerThanTheProducerAllows_DeadLetteredWithoutTheValueNamingItsSizeAndPosition()
    {
        var topic = await cluster.CreateFreshTopicAsync(1, "oversized.dead-letter");
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, MessageMaxBytes = 10_000 }).Build();
        var publisher = new DeadLetterPublisher(producer, topic, "router", NullLogger.Instance);
        var record = new ConsumeResult<byte[], byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset("features", 3, 1234),
            Message = new Message<byte[], byte[]> { Key = "e-1"u8.ToArray(), Value = new byte[50_000] },
        };
        var delivered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        publisher.Publish(record, "decode", "not a FeatureRecord", delivered.SetResult, activity: null);

        Assert.True(await delivered.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var letter = DeadLetter.Parser.ParseFrom(cluster.ReadAll(topic, 1, TimeSpan.FromSeconds(30)).Single().Message.Value);
        Assert.Equal((50_000L, 0), (letter.OmittedValueBytes, letter.Value.Length));
        Assert.Equal(("features", 3, 1234L, "decode"), (letter.SourceTopic, letter.Partition, letter.Offset, letter.ErrorClass));
        Assert.Equal("e-1", letter.Key.ToStringUtf8());
        Assert.Equal(1, publisher.Published);
    }

    [Fact]
    public void Create_ReasonLongerThanTheLimit_CutAndSaysHowMuchWasLeftOut()
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = "127.0.0.1:1" }).SetLogHandler((_, _) => { }).Build();
        var publisher = new DeadLetterPublisher(producer, "dead-letters", "router", NullLogger.Instance);
        var record = new ConsumeResult<byte[], byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset("features", 0, 1),
            Message = new Message<byte[], byte[]> { Value = [1] },
        };

        var letter = publisher.Create(record, "inference", new string('x', DeadLetterPublisher.MaxErrorMessageLength + 500));

        Assert.StartsWith(new string('x', DeadLetterPublisher.MaxErrorMessageLength), letter.ErrorMessage, StringComparison.Ordinal);
        Assert.EndsWith("... (500 more characters)", letter.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(1, letter.Value.Length);
    }
}
