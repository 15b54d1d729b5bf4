namespace Mesh.Kafka.Tests;

/// <summary>
/// What the embedded broker's group coordinator (librdkafka's mock cluster, src/rdkafka_mock_cgrp.c) does differently
/// from a real one, shown with plain clients. These are limits of the embedded broker, not of the mesh: a test here
/// failing means the mock changed and the README's "What the embedded broker cannot show" needs a look. Its missing
/// static membership is seen in `mesh chaos` instead, with killed processes (a test closing a static member here
/// and joining again under its id hung in the close).
/// </summary>
public sealed class EmbeddedBrokerGroupTests
{
    private const string Topic = "group-limits";
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A real coordinator stores a commit of the current generation while the group prepares a rebalance (it refuses
    /// only once the members are syncing); the mock refuses it from the moment another member joins until the group
    /// is stable again, which it holds for session.timeout.ms minus 1 s. A partition that moves meanwhile is resumed
    /// by its next owner from the last accepted commit: the mesh's at-least-once duplicates during a scale-out there.
    /// </summary>
    [Fact]
    public void Commit_OfTheCurrentGenerationWhileAMemberJoins_EmbeddedBrokerRefusesIt()
    {
        using var broker = Broker();
        var group = "commit-" + Guid.NewGuid().ToString("N");
        using var first = Consumer(broker, group, "first");
        first.Subscribe(Topic);
        Assert.True(Poll(first, () => first.Assignment.Count == 4), "the first member owns the four partitions");
        var offsets = new[] { new TopicPartitionOffset(Topic, 0, 1) };
        first.Commit(offsets);

        using var second = Consumer(broker, group, "second");
        second.Subscribe(Topic);
        KafkaException? refused = null;
        var deadline = DateTime.UtcNow + s_patience;
        while (refused is null && second.Assignment.Count == 0 && DateTime.UtcNow < deadline)
        {
            second.Consume(TimeSpan.FromMilliseconds(50));
            first.Consume(TimeSpan.FromMilliseconds(50));
            try
            {
                first.Commit(offsets);
            }
            catch (KafkaException e)
            {
                refused = e;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(ErrorCode.RebalanceInProgress, refused.Error.Code);
    }

    private static EmbeddedKafkaBroker Broker()
    {
        var broker = EmbeddedKafkaBroker.Start();
        broker.CreateTopic(Topic, 4);
        return broker;
    }

    // The mesh's group settings (KafkaClientFactory): cooperative-sticky, a 10 s session, a static instance id.
    private static IConsumer<byte[], byte[]> Consumer(EmbeddedKafkaBroker broker, string group, string instance) =>
        new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = group,
            GroupInstanceId = $"{group}-{instance}",
            SessionTimeoutMs = KafkaClientFactory.DefaultSessionTimeoutMs,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();

    // Polls the consumer (it serves its group protocol only while polled) until the condition holds.
    private static bool Poll(IConsumer<byte[], byte[]> consumer, Func<bool> done)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (!done() && DateTime.UtcNow < deadline)
        {
            consumer.Consume(TimeSpan.FromMilliseconds(50));
        }

        return done();
    }
}
