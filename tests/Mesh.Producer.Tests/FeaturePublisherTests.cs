namespace Mesh.Producer.Tests;

public sealed class FeaturePublisherTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task PublishAsync_InsideACallersSpan_RecordCarriesKeyHeadersAndTheCallersTrace()
    {
        var topic = await cluster.CreateFreshTopicAsync(2, "features");
        using var publisher = FeaturePublisher.Create(cluster.BootstrapServers, topic);
        using var caller = new Activity("upstream-request").SetIdFormat(ActivityIdFormat.W3C).Start();

        var record = new FeatureRecord { RequestId = "order-17", EntityId = "customer-4", FeatureSet = "iris", Values = { 5.1f, 3.5f, 1.4f, 0.2f } };
        var result = await publisher.PublishAsync(record);
        publisher.Publish(new FeatureRecord { RequestId = "order-18", EntityId = "customer-4", FeatureSet = "iris", Values = { 1f } });
        Assert.Equal(0, publisher.Flush(TimeSpan.FromSeconds(10)));

        Assert.Equal(Confluent.Kafka.PersistenceStatus.Persisted, result.Status);
        var read = cluster.ReadAll(topic, 2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, read.Count);
        var first = read.Single(r => FeatureRecord.Parser.ParseFrom(r.Message.Value).RequestId == "order-17");
        Assert.Equal("customer-4", Encoding.UTF8.GetString(first.Message.Key));
        Assert.Equal(record, FeatureRecord.Parser.ParseFrom(first.Message.Value));
        Assert.Equal(MeshHeaders.ContentTypeOf<FeatureRecord>(), MeshHeaders.GetString(first.Message.Headers, MeshHeaders.ContentType));
        Assert.Equal(caller.TraceId, MeshHeaders.ExtractTraceContext(first.Message.Headers).TraceId);
    }

    [Fact]
    public void Publish_RecordWithoutEntityId_IsRefusedWithTheReason()
    {
        using var publisher = FeaturePublisher.Create(cluster.BootstrapServers, KafkaTestCluster.UniqueTopic("features"));

        var e = Assert.Throws<ArgumentException>(() => publisher.Publish(new FeatureRecord { RequestId = "r" }));

        Assert.Contains("entity_id", e.Message, StringComparison.Ordinal);
    }
}
