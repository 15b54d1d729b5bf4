using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Mesh.Contracts.V1;
using Mesh.EmbeddedSchemaRegistry;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Testing;

namespace Mesh.Router.Tests;

/// <summary>The router reading framed features while the (stand-in) registry is down.</summary>
public sealed class RegistryDownRoutingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Router_RegistryDownAndAnUncachedSchemaId_DeadLettersThatRecordNamingTheIdAndKeepsRouting()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: registry-down
                strategy: ab
                arms:
                  - name: a
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-a
                    version: "1"
            """, new Dictionary<string, string?> { ["Kafka:SchemaRegistry:Url"] = registry.Url, ["Kafka:SchemaRegistry:MaxRetries"] = "1" });
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
}
