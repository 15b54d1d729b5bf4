namespace Mesh.Router.Tests;

/// <summary>The one queue-full produce retry the router, the producer and the bench tools share.</summary>
public sealed class ProduceRetryTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static Message<byte[], byte[]> Message(int i) => new() { Key = [(byte)i], Value = [(byte)i, 1, 2, 3] };

    [Fact]
    public async Task Produce_QueueOfOneAgainstARealBroker_WaitsForRoomAndDeliversEveryMessage()
    {
        const int Count = 50;
        var topic = await cluster.CreateFreshTopicAsync(1, "produce-retry");
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            QueueBufferingMaxMessages = 1,
        }).Build();
        var delivered = 0;

        for (var i = 0; i < Count; i++)
        {
            ProduceRetry.Produce(producer, topic, Message(i), r =>
            {
                if (r.Error.Code == ErrorCode.NoError)
                {
                    Interlocked.Increment(ref delivered);
                }
            }, CancellationToken.None);
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        Assert.Equal(Count, delivered);
        Assert.Equal(Count, cluster.ReadAll(topic, Count, TimeSpan.FromSeconds(30)).Count);
    }

    [Fact]
    public void Produce_QueueStaysFull_ThrowsTimeoutExceptionSayingTheClusterIsNotAcknowledging()
    {
        using var producer = UnreachableProducerWithAFullQueue();

        var e = Assert.Throws<TimeoutException>(() =>
            ProduceRetry.Produce(producer, "never-acknowledged", Message(2), null, CancellationToken.None, TimeSpan.FromMilliseconds(50)));

        Assert.Contains("local queue stayed full", e.Message, StringComparison.Ordinal);
        Assert.Contains("not acknowledging", e.Message, StringComparison.Ordinal);
        var inner = Assert.IsAssignableFrom<KafkaException>(e.InnerException);
        Assert.Equal(ErrorCode.Local_QueueFull, inner.Error.Code);
    }

    [Fact]
    public void Produce_CancelledWhileTheQueueIsFull_ThrowsOperationCanceled()
    {
        using var producer = UnreachableProducerWithAFullQueue();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            ProduceRetry.Produce(producer, "never-acknowledged", Message(2), null, cancel.Token, TimeSpan.FromMinutes(10)));
    }

    /// <summary>A producer whose one-message queue is taken by a message nobody acknowledges (nothing listens on port 1).</summary>
    private static IProducer<byte[], byte[]> UnreachableProducerWithAFullQueue()
    {
        var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = "127.0.0.1:1",
            QueueBufferingMaxMessages = 1,
            MessageTimeoutMs = 600_000,
        }).SetLogHandler((_, _) => { }).Build();
        producer.Produce("never-acknowledged", Message(1));
        return producer;
    }
}
