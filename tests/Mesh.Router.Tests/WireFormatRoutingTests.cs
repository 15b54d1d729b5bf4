namespace Mesh.Router.Tests;

/// <summary>
/// The router reading framed features (a topic in mid-migration) and writing framed predictions, with the registry up
/// and with the registry down mid-stream: a record that needs it is held until it is back, never dead-lettered or lost.
/// </summary>
public sealed class WireFormatRoutingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Router_RegistryDownWithAnUncachedSchemaIdThenBackOnItsPort_HoldsThatRecordAndPredictsItAndEveryOneAfter()
    {
        // Features framed with a schema id the router has never read: an upstream writer registered it just now.
        await using var mesh = await StartFramingAsync();
        var records = RouterTestHost.Records("held", 21, 4);
        // One key, so one partition: read in order, the held records before the last one.
        var values = records.Select(r => new Message<byte[], byte[]> { Key = "entity-0"u8.ToArray(), Value = mesh.Writer.Encode(mesh.Router.Features, r) }).ToList();
        await mesh.Registry.StopAsync();

        // A record the router dead-letters once it has handled every record before it: the first dead letter must be
        // this one (a held record dead-lettered while the registry was down would come before it).
        values.Add(new Message<byte[], byte[]> { Key = "entity-0"u8.ToArray(), Value = new FeatureRecord { RequestId = "", EntityId = "entity-0" }.ToByteArray() });
        mesh.Router.Produce(values);
        // The router is now retrying the registry (its port refuses connections); it comes back with its schemas.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await mesh.Registry.StartAgainAsync();

        var predictions = cluster.ReadAll(mesh.Router.Predictions, 21, s_patience).Select(r => WireFormatReader.Unchecked.Decode<Prediction>(mesh.Router.Predictions, r.Message.Value)).ToList();
        var deadLetter = cluster.ReadAll(mesh.Router.DeadLetters, 1, s_patience).Select(r => WireFormatReader.Unchecked.Decode<DeadLetter>(mesh.Router.DeadLetters, r.Message.Value)).First();

        Assert.Equal(records.Select(r => r.RequestId).Order(StringComparer.Ordinal), predictions.Select(p => p.RequestId).Order(StringComparer.Ordinal));
        Assert.Equal(("validation", "request_id is empty."), (deadLetter.ErrorClass, deadLetter.ErrorMessage));
    }

    [Fact]
    public async Task Router_RegistryRefusingConnectionsWhenAnExperimentsOwnTopicIsFirstWrittenThenBack_EveryPredictionArrivesFramedWithThatSubjectsId()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        await using var modelHost = await FakeModelHost.StartAsync();
        var own = await cluster.CreateFreshTopicAsync(2, "router-test.own-predictions");
        // The experiment's own predictions topic is not among the topics the router registers at start.
        await using var router = await StartRouterAsync(registry, modelHost, $"""
                topics:
                  predictions: {own}
            """);
        await registry.StopAsync();

        router.Produce(RouterTestHost.Records("new-subject", 20, 4));
        // Scored, so the router is at writing the first prediction: registering the new subject, its port refusing.
        var deadline = DateTime.UtcNow + s_patience;
        while (modelHost.Calls == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        await registry.StartAgainAsync();

        var values = cluster.ReadAll(own, 20, s_patience).Select(r => r.Message.Value).ToList();
        var id = registry.Store.At(own + "-value", -1).Schema!.Id;
        Assert.Equal(20, values.Count);
        Assert.All(values, v => Assert.Equal([0, .. BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(id)), 0], v[..6]));
        Assert.Equal(20, values.Select(v => Prediction.Parser.ParseFrom(v.AsSpan(6)).RequestId).Distinct().Count());
    }

    [Fact]
    public async Task Router_FramedAndPlainFeaturesAndAnotherMessagesSchema_PredictsEveryFeatureRecordAndDeadLettersTheOtherNamingIdAndSubject()
    {
        await using var mesh = await StartFramingAsync();
        var records = RouterTestHost.Records("mixed", 20, 4);
        // Every other record framed, as when an upstream team's writers move to the registry one by one; and one value
        // framed with a Label schema registered under the features topic's subject by a writer that got the topic wrong.
        var values = records.Select((r, i) => (r.EntityId, Value: i % 2 == 0 ? mesh.Writer.Encode(mesh.Router.Features, r) : r.ToByteArray())).ToList();
        var label = mesh.Writer.Encode("wrong-" + mesh.Router.Features, new Label { RequestId = "wrong-message" });
        var labelId = (await mesh.Client.GetLatestSchemaAsync($"wrong-{mesh.Router.Features}-value")).Id;
        values.Insert(7, ("entity-0", label));

        mesh.Router.Produce(values.Select(v => new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(v.EntityId), Value = v.Value }));
        var predictions = cluster.ReadAll(mesh.Router.Predictions, 20, s_patience).Select(r => WireFormatReader.Unchecked.Decode<Prediction>(mesh.Router.Predictions, r.Message.Value)).ToList();
        var deadLetter = Assert.Single(cluster.ReadAll(mesh.Router.DeadLetters, 1, s_patience).Select(r => WireFormatReader.Unchecked.Decode<DeadLetter>(mesh.Router.DeadLetters, r.Message.Value)));

        Assert.Equal(records.Select(r => r.RequestId).Order(StringComparer.Ordinal), predictions.Select(p => p.RequestId).Order(StringComparer.Ordinal));
        Assert.Equal("decode", deadLetter.ErrorClass);
        Assert.Contains($"schema id {labelId}", deadLetter.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains($"'{mesh.Router.Features}-value'", deadLetter.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("mesh.v1.Label", deadLetter.ErrorMessage, StringComparison.Ordinal);
    }

    /// <summary>The router, its model host and the registry, with an upstream writer that frames values through that registry.</summary>
    private async Task<FramingMesh> StartFramingAsync()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var modelHost = await FakeModelHost.StartAsync();
        var router = await StartRouterAsync(registry, modelHost);
        var options = new SchemaRegistryOptions { Url = registry.Url };
        var client = new CachedSchemaRegistryClient(options.ToClientConfig());
        return new FramingMesh(registry, modelHost, router, client, new WireFormatWriter(client, options));
    }

    private sealed record FramingMesh(StandInSchemaRegistry Registry, FakeModelHost ModelHost, RouterTestHost Router, CachedSchemaRegistryClient Client, WireFormatWriter Writer)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Router.DisposeAsync();
            await ModelHost.DisposeAsync();
            await Registry.DisposeAsync();
        }
    }

    // MaxRetries 1: Confluent's client's own retries stay out of the way; the router's wait for a registry that does
    // not answer (Kafka:SchemaRegistry:UnavailableRetryMs) is what these tests exercise.
    private Task<RouterTestHost> StartRouterAsync(StandInSchemaRegistry registry, FakeModelHost modelHost, string experimentKeys = "") => RouterTestHost.StartAsync(cluster, $"""
        experiments:
          - name: wire-format
            strategy: ab
        {experimentKeys}
            arms:
              - name: a
                weight: 1
                endpoint: {modelHost.Endpoint}
                model: model-a
                version: "1"
        """, new Dictionary<string, string?> { ["Kafka:SchemaRegistry:Url"] = registry.Url, ["Kafka:SchemaRegistry:MaxRetries"] = "1" });
}
