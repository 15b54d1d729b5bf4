using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.EmbeddedSchemaRegistry;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Testing;

namespace Mesh.Router.Tests;

/// <summary>The router reading framed features: a topic in mid-migration with the registry up, and the registry down.</summary>
public sealed class WireFormatRoutingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Router_RegistryDownAndAnUncachedSchemaId_DeadLettersThatRecordNamingTheIdAndKeepsRouting()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await StartRouterAsync(registry, modelHost);
        // A value framed with a schema id the router has never read: another team's writer registered it.
        var options = new Kafka.SchemaRegistry.SchemaRegistryOptions { Url = registry.Url };
        using var client = new CachedSchemaRegistryClient(options.ToClientConfig());
        var uncached = new WireFormatWriter(client, options).Encode("another-team.labels", new Label { RequestId = "uncached" });
        var id = (await client.GetLatestSchemaAsync("another-team.labels-value")).Id;
        await registry.StopAsync();

        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            producer.Produce(router.Features, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes("uncached"), Value = uncached });
            producer.Flush(TimeSpan.FromSeconds(30));
        }

        router.Produce(RouterTestHost.Records("after", 20, 4));
        // Framed values (the registry is configured): read by skipping the header.
        var deadLetter = Assert.Single(cluster.ReadAll(router.DeadLetters, 1, s_patience).Select(r => WireFormatReader.Unchecked.Decode<DeadLetter>(router.DeadLetters, r.Message.Value)));
        var predictions = cluster.ReadAll(router.Predictions, 20, s_patience);

        Assert.Equal("decode", deadLetter.ErrorClass);
        Assert.Contains($"schema id {id}", deadLetter.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("did not answer", deadLetter.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(20, predictions.Count);
    }

    [Fact]
    public async Task Router_FramedAndPlainFeaturesAndAnotherMessagesSchema_PredictsEveryFeatureRecordAndDeadLettersTheOtherNamingIdAndSubject()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await StartRouterAsync(registry, modelHost);
        var options = new SchemaRegistryOptions { Url = registry.Url };
        using var client = new CachedSchemaRegistryClient(options.ToClientConfig());
        var writer = new WireFormatWriter(client, options);
        var records = RouterTestHost.Records("mixed", 20, 4);
        // Every other record framed, as when an upstream team's writers move to the registry one by one; and one value
        // framed with a Label schema registered under the features topic's subject by a writer that got the topic wrong.
        var values = records.Select((r, i) => (r.EntityId, Value: i % 2 == 0 ? writer.Encode(router.Features, r) : r.ToByteArray())).ToList();
        var label = writer.Encode("wrong-" + router.Features, new Label { RequestId = "wrong-message" });
        var labelId = (await client.GetLatestSchemaAsync($"wrong-{router.Features}-value")).Id;
        values.Insert(7, ("entity-0", label));

        router.Produce(values.Select(v => new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(v.EntityId), Value = v.Value }));
        var predictions = cluster.ReadAll(router.Predictions, 20, s_patience).Select(r => WireFormatReader.Unchecked.Decode<Prediction>(router.Predictions, r.Message.Value)).ToList();
        var deadLetter = Assert.Single(cluster.ReadAll(router.DeadLetters, 1, s_patience).Select(r => WireFormatReader.Unchecked.Decode<DeadLetter>(router.DeadLetters, r.Message.Value)));

        Assert.Equal(records.Select(r => r.RequestId).Order(StringComparer.Ordinal), predictions.Select(p => p.RequestId).Order(StringComparer.Ordinal));
        Assert.Equal("decode", deadLetter.ErrorClass);
        Assert.Contains($"schema id {labelId}", deadLetter.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains($"'{router.Features}-value'", deadLetter.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("mesh.v1.Label", deadLetter.ErrorMessage, StringComparison.Ordinal);
    }

    // MaxRetries 1: a registry that is down is given up on at once instead of after the client's back-off.
    private Task<RouterTestHost> StartRouterAsync(StandInSchemaRegistry registry, FakeModelHost modelHost) => RouterTestHost.StartAsync(cluster, $"""
        experiments:
          - name: wire-format
            strategy: ab
            arms:
              - name: a
                weight: 1
                endpoint: {modelHost.Endpoint}
                model: model-a
                version: "1"
        """, new Dictionary<string, string?> { ["Kafka:SchemaRegistry:Url"] = registry.Url, ["Kafka:SchemaRegistry:MaxRetries"] = "1" });
}
