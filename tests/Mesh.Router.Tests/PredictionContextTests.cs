namespace Mesh.Router.Tests;

/// <summary>
/// What a Prediction says about the experiment that made it (context keys <c>mesh.strategy</c>, <c>mesh.weight</c>) and
/// what a dead letter says about the arm that failed it (<c>experiment</c>, <c>arm</c>): the figures the metrics sink
/// logs to MLflow come from these.
/// </summary>
public sealed class PredictionContextTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void Serialize_FeatureContextWithAReservedKey_RouterEntriesWinOthersKeptWeightInInvariantCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        ExperimentContexts contexts;
        try
        {
            // A culture with a decimal comma (built by hand: tests run in globalization-invariant mode): the weight must still read 0.25.
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            CultureInfo.CurrentCulture = comma;
            Assert.Equal("0,25", 0.25.ToString(CultureInfo.CurrentCulture));
            contexts = PredictionContext.ForExperiment(ExperimentStrategy.Ab, new ExperimentDefinition
            {
                Name = "ctx",
                Strategy = "ab",
                Arms = [new ArmDefinition { Name = "a", Weight = 0.25 }, new ArmDefinition { Name = "b", Weight = 0.75 }],
                Shadows = [new ArmDefinition { Name = "s" }],
            });
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }

        var prediction = new Prediction { RequestId = "r1", Arm = "a", Context = { ["channel"] = "web", ["mesh.weight"] = "spoofed" } };

        var parsed = Prediction.Parser.ParseFrom(contexts.Arms[0].Serialize(prediction));

        Assert.Equal(("r1", "a"), (parsed.RequestId, parsed.Arm));
        Assert.Equal("web", parsed.Context["channel"]);
        Assert.Equal("ab", parsed.Context["mesh.strategy"]);
        Assert.Equal("0.25", parsed.Context["mesh.weight"]);
        Assert.Equal(3, parsed.Context.Count);
        Assert.Equal("0.75", Prediction.Parser.ParseFrom(contexts.Arms[1].Serialize(new Prediction())).Context["mesh.weight"]);
        Assert.Equal("0", Prediction.Parser.ParseFrom(contexts.Shadows[0].Serialize(new Prediction())).Context["mesh.weight"]);
    }

    [Fact]
    public async Task Predictions_AbWithShadowBanditAndEnsembleOnOneTopic_EachCarriesItsStrategyAndConfiguredWeight()
    {
        const int Count = 40;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: ctx-ab
                strategy: ab
                arms:
                  - name: a
                    weight: 0.25
                    endpoint: {modelHost.Endpoint}
                    model: model-a
                  - name: b
                    weight: 0.75
                    endpoint: {modelHost.Endpoint}
                    model: model-b
                shadows:
                  - name: s
                    endpoint: {modelHost.Endpoint}
                    model: model-s
              - name: ctx-bandit
                strategy: bandit
                bandit:
                  algorithm: epsilon-greedy
                  epsilon: 0.5
                arms:
                  - name: x
                    weight: 2
                    endpoint: {modelHost.Endpoint}
                    model: model-x
                  - name: y
                    endpoint: {modelHost.Endpoint}
                    model: model-y
              - name: ctx-ensemble
                strategy: ensemble
                ensemble:
                  combine: weighted-mean
                arms:
                  - name: m1
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-m1
                  - name: m2
                    weight: 3
                    endpoint: {modelHost.Endpoint}
                    model: model-m2
            """);
        var records = RouterTestHost.Records("ctx", Count, entities: Count);
        foreach (var record in records)
        {
            // The mesh.* keys belong to the router: a feature record's own value must not come through.
            record.Context["mesh.strategy"] = "spoofed";
            record.Context["channel"] = "web";
        }

        router.Produce(records);

        var primary = router.ReadPredictions(3 * Count, s_patience);
        var shadows = router.ReadShadowPredictions(1, s_patience);

        Assert.Equal(3 * Count, primary.Count);
        var expected = new Dictionary<(string Experiment, string Arm), (string Strategy, string Weight)>
        {
            [("ctx-ab", "a")] = ("ab", "0.25"),
            [("ctx-ab", "b")] = ("ab", "0.75"),
            [("ctx-bandit", "x")] = ("bandit", "2"),
            [("ctx-bandit", "y")] = ("bandit", "0"),
            [("ctx-ensemble", "ensemble")] = ("ensemble", "1"),
        };
        Assert.All(primary, p =>
        {
            Assert.Equal(expected[(p.Experiment, p.Arm)], (p.Context["mesh.strategy"], p.Context["mesh.weight"]));
            Assert.Equal("web", p.Context["channel"]);
        });
        // Both ab arms and the ensemble answered, so each of their contexts was seen at least once.
        Assert.Equal(Count, primary.Count(p => p.Experiment == "ctx-ensemble"));
        Assert.Contains(primary, p => p.Arm == "a");
        Assert.Contains(primary, p => p.Arm == "b");
        Assert.NotEmpty(shadows);
        Assert.All(shadows, s =>
        {
            Assert.Equal(("ctx-ab", "s", true), (s.Experiment, s.Arm, s.Shadow));
            Assert.Equal(("ab", "0"), (s.Context["mesh.strategy"], s.Context["mesh.weight"]));
        });
    }

    [Fact]
    public async Task DeadLetter_ArmAndEnsembleFailAfterAssignment_CarryExperimentAndArmButADecodeFailureDoesNot()
    {
        const int Count = 10;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: dl-ab
                strategy: ab
                arms:
                  - name: down
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.BrokenModel}
              - name: dl-ensemble
                strategy: ensemble
                arms:
                  - name: m1
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.BrokenModel}
            """);
        router.Produce(RouterTestHost.Records("dl", Count, entities: 5));
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            producer.Produce(router.Features, new Message<byte[], byte[]> { Key = "bad"u8.ToArray(), Value = Encoding.UTF8.GetBytes("not a FeatureRecord") });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var letters = router.ReadDeadLetters(2 * Count + 1, s_patience);

        Assert.Equal(2 * Count + 1, letters.Count);
        var byExperiment = letters.GroupBy(l => (l.Experiment, l.Arm, l.ErrorClass)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Count, byExperiment[("dl-ab", "down", ErrorClass.Inference)]);
        Assert.Equal(Count, byExperiment[("dl-ensemble", EnsembleJoin.ArmName, ErrorClass.Inference)]);
        Assert.Equal(1, byExperiment[("", "", ErrorClass.Decode)]);
        Assert.All(letters.Where(l => l.Experiment.Length > 0), l =>
        {
            Assert.Equal("router", l.Service);
            Assert.Equal(router.Features, l.SourceTopic);
            Assert.StartsWith("dl-", FeatureRecord.Parser.ParseFrom(l.Value).RequestId, StringComparison.Ordinal);
        });
        Assert.Empty(router.ReadPredictions(1, TimeSpan.FromSeconds(1)));
    }
}
