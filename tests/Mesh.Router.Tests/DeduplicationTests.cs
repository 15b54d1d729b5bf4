namespace Mesh.Router.Tests;

/// <summary>
/// Replaying records twice changes nothing downstream: an experiment predicts a request id once, while a record it
/// dead-lettered (never predicted) is predicted when it is replayed.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class DeduplicationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Handle_SameRecordsReplayedTwice_OnePredictionPerRequestIdAndDuplicatesCounted()
    {
        const int Count = 10;
        const int Fresh = 5;
        var experiment = "dedupe-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, "model-champion"));
        using var http = router.CreateHttpClient(token: null);
        (string, string)[] tags = [("experiment", experiment)];
        var records = RouterTestHost.Records("dup", Count, entities: 3);

        await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_duplicates_skipped_total", tags) == 0, s_patience, "the duplicates counter at zero");
        router.Produce(records);
        Assert.Equal(Count, router.ReadPredictions(Count, s_patience).Count);

        // Replayed twice, with the replay headers `mesh dead-letters replay` adds, then a few new records.
        router.Produce(Replayed(records, attempt: 1));
        router.Produce(Replayed(records, attempt: 2));
        router.Produce(RouterTestHost.Records("fresh", Fresh, entities: 3));
        await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_duplicates_skipped_total", tags) == 2 * Count, s_patience, "every replayed record skipped");
        await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_predictions_total") == Count + Fresh, s_patience, "the fresh records predicted");

        var predictions = router.ReadPredictions(Count + Fresh + 1, TimeSpan.FromSeconds(3));
        Assert.Equal(Count + Fresh, predictions.Count);
        Assert.Equal(Count + Fresh, predictions.Select(p => p.RequestId).Distinct().Count());
        Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Handle_DeadLetteredRecordReplayedAfterTheModelIsFixed_IsPredictedOnce()
    {
        const int Count = 4;
        var experiment = "redo-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, FakeModelHost.BrokenModel),
            new Dictionary<string, string?> { ["Router:Backpressure:HostUnavailableMaxWaitMs"] = "1", ["Router:Batching:CallTimeoutMs"] = "2000" });
        var records = RouterTestHost.Records("redo", Count, entities: Count);

        router.Produce(records);
        var deadLetters = router.ReadDeadLetters(Count, s_patience);
        Assert.Equal(Count, deadLetters.Count);

        // The model is fixed (the spec now names a model that answers), then the dead letters are replayed: the
        // experiment never predicted these request ids, so it must predict them now, and only once though replayed twice.
        await File.WriteAllTextAsync(router.ExperimentFile, Specs.OneArm(experiment, modelHost.Endpoint, "model-fixed"));
        await WaitForModelAsync(router, experiment, "model-fixed");
        router.Produce(deadLetters.Select((d, i) => Replay(d, $"{router.DeadLetters}/0/{i}", attempt: 1)));
        router.Produce(deadLetters.Select((d, i) => Replay(d, $"{router.DeadLetters}/0/{i}", attempt: 1)));

        var predictions = router.ReadPredictions(Count + 1, TimeSpan.FromSeconds(20));
        Assert.Equal(records.Select(r => r.RequestId).Order(), predictions.Select(p => p.RequestId).Order());
        Assert.All(predictions, p => Assert.Equal("model-fixed", p.ModelName));
    }

    private static IEnumerable<Message<byte[], byte[]>> Replayed(IEnumerable<FeatureRecord> records, int attempt) =>
        records.Select((r, i) => new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(r.EntityId),
            Value = r.ToByteArray(),
            Headers = ReplayHeaders($"mesh.dead-letter.v1/0/{i}", attempt),
        });

    /// <summary>What <c>mesh dead-letters replay</c> sends: the original key and value, with the replay headers.</summary>
    private static Message<byte[], byte[]> Replay(DeadLetter letter, string coordinates, int attempt) => new()
    {
        Key = letter.Key.ToByteArray(),
        Value = letter.Value.ToByteArray(),
        Headers = ReplayHeaders(coordinates, attempt),
    };

    private static Headers ReplayHeaders(string coordinates, int attempt) => new()
    {
        { MeshHeaders.Replay, Encoding.ASCII.GetBytes(coordinates) },
        { MeshHeaders.ReplayAttempt, Encoding.ASCII.GetBytes(attempt.ToString(CultureInfo.InvariantCulture)) },
    };

    private static async Task WaitForModelAsync(RouterTestHost router, string experiment, string model)
    {
        using var http = router.CreateHttpClient();
        var deadline = DateTime.UtcNow + s_patience;
        while (!(await http.GetStringAsync($"/admin/experiments/{experiment}")).Contains(model, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the router never reloaded experiment '{experiment}' with model '{model}'");
            await Task.Delay(200);
        }
    }
}
