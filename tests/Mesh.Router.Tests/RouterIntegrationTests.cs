namespace Mesh.Router.Tests;

/// <summary>The router in-process, against the test Kafka cluster and a real gRPC model host.</summary>
public sealed class RouterIntegrationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Router_GoodRecordsAndAGarbageRecord_OnePredictionEachAndOneDecodeDeadLetter()
    {
        const int Good = 200;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.TwoArmAb("test-ab", modelHost.Endpoint, 50, 50, ("1", "2")));

        // Good records, then a garbage one and one with the wrong feature count, then good records again:
        // the router must keep going after the bad ones.
        var sent = new Dictionary<string, (FeatureRecord Record, string TraceId)>();
        var garbage = Encoding.UTF8.GetBytes("this is not a protobuf FeatureRecord");
        var messages = new List<Message<byte[], byte[]>>();
        for (var i = 0; i < Good; i++)
        {
            if (i == Good / 2)
            {
                messages.Add(new Message<byte[], byte[]> { Key = "bad"u8.ToArray(), Value = garbage });
                var wrongWidth = new FeatureRecord { RequestId = "wrong-width", EntityId = "bad", Values = { 1, 2, 3 } };
                messages.Add(new Message<byte[], byte[]> { Key = "bad"u8.ToArray(), Value = wrongWidth.ToByteArray() });
            }

            var record = new FeatureRecord
            {
                RequestId = $"req-{i}",
                EntityId = $"entity-{i % 23}",
                EventTime = ProtoTimestamp.FromDateTime(DateTime.UtcNow),
                FeatureSet = "test",
                Values = { i % 10, 1, 2, 3 },
                Context = { ["source"] = "router-test" },
            };
            var trace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
            var headers = new Headers { { MeshHeaders.TraceParent, Encoding.ASCII.GetBytes(MeshHeaders.FormatTraceParent(trace)) } };
            messages.Add(new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(record.EntityId), Value = record.ToByteArray(), Headers = headers });
            sent.Add(record.RequestId, (record, trace.TraceId.ToHexString()));
        }

        router.Produce(messages);

        var received = cluster.ReadAll(router.Predictions, Good, s_patience)
            .Select(r => (Key: Encoding.UTF8.GetString(r.Message.Key), Headers: r.Message.Headers, Prediction: Prediction.Parser.ParseFrom(r.Message.Value)))
            .ToList();
        // Every good record is processed by now; anything further on the dead-letter topic would be a bug.
        var letters = router.ReadDeadLetters(3, TimeSpan.FromSeconds(5));
        await router.StopAsync();

        Assert.Equal(sent.Keys.Order(), received.Select(r => r.Prediction.RequestId).Order());
        foreach (var (key, headers, prediction) in received)
        {
            var (record, traceId) = sent[prediction.RequestId];
            Assert.Equal(record.EntityId, key);
            Assert.Equal(record.EntityId, prediction.EntityId);
            Assert.Equal("test-ab", prediction.Experiment);
            Assert.Equal(prediction.Arm == "a" ? ("model-a", "1") : ("model-b", "2"), (prediction.ModelName, prediction.ModelVersion));
            Assert.Equal(FakeModelHost.Classify(record.Values[0]), prediction.Output.Label);
            Assert.Equal(FakeModelHost.ClassNames, prediction.Output.ClassNames);
            Assert.Equal(2, prediction.Output.Scores.Count);
            Assert.Equal(0.5, prediction.AssignmentProbability);
            Assert.StartsWith("ab-", prediction.PolicyVersion, StringComparison.Ordinal);
            Assert.Equal("router-test", prediction.Context["source"]);
            Assert.Equal(traceId, prediction.TraceId);
            Assert.Contains(traceId, MeshHeaders.GetString(headers, MeshHeaders.TraceParent) ?? "", StringComparison.Ordinal);
            Assert.Equal(MeshHeaders.ContentTypeOf<Prediction>(), MeshHeaders.GetString(headers, MeshHeaders.ContentType));
        }

        // Sticky: every entity got exactly one arm, and both arms were used.
        Assert.All(received.GroupBy(r => r.Prediction.EntityId), g => Assert.Single(g.Select(r => r.Prediction.Arm).Distinct()));
        Assert.Equal(["a", "b"], received.Select(r => r.Prediction.Arm).Distinct().Order());

        Assert.Equal(2, letters.Count);
        var decode = Assert.Single(letters, l => l.ErrorClass == "decode");
        Assert.Equal(garbage, decode.Value.ToByteArray());
        Assert.Equal(("router", router.Features), (decode.Service, decode.SourceTopic));
        var validation = Assert.Single(letters, l => l.ErrorClass == "validation");
        Assert.Equal("wrong-width", FeatureRecord.Parser.ParseFrom(validation.Value).RequestId);

        // A clean stop committed every processed record: a restarted router would not redo or skip any.
        Assert.Equal(Good + 2, cluster.CommittedTotal(router.GroupId, router.Features));
        Assert.NotEqual(FatalError.ExitCode, Environment.ExitCode);
    }

    [Fact]
    public async Task Router_ModelInferFailsTwice_RecordsGoToTheDeadLetterTopicAndTheRouterMovesOn()
    {
        const int Count = 20;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm("broken-ab", modelHost.Endpoint, FakeModelHost.BrokenModel, arm: "only"));
        router.Produce(Enumerable.Range(0, Count).Select(i => new FeatureRecord { RequestId = $"req-{i}", EntityId = $"entity-{i}", Values = { 1, 2, 3, 4 } }));

        var letters = router.ReadDeadLetters(Count, s_patience);
        await router.StopAsync();

        Assert.Equal(
            Enumerable.Range(0, Count).Select(i => $"req-{i}").Order(),
            letters.Select(l => FeatureRecord.Parser.ParseFrom(l.Value).RequestId).Order());
        Assert.All(letters, l =>
        {
            Assert.Equal("inference", l.ErrorClass);
            Assert.Contains("Unavailable", l.ErrorMessage, StringComparison.Ordinal);
            Assert.Contains("failed 2 time(s)", l.ErrorMessage, StringComparison.Ordinal);
        });
        Assert.Empty(router.ReadPredictions(1, TimeSpan.FromSeconds(1)));
        Assert.Equal(Count, cluster.CommittedTotal(router.GroupId, router.Features));
    }
}
