namespace Mesh.Router.Tests;

/// <summary>
/// Under consumer lag the router sheds shadows first, then challengers (to the champion, saying so), restores both
/// as the lag falls, and loses no record on the way; an experiment without a fallback keeps its policy's arms.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class LagSheddingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(120);

    private static string Spec(string experiment, string endpoint) => $"""
        experiments:
          - name: {experiment}
            strategy: ab
            fallback: champion
            arms:
              - name: champion
                weight: 1
                endpoint: {endpoint}
                model: {FakeModelHost.SlowModel}
              - name: challenger
                weight: 1
                endpoint: {endpoint}
                model: {FakeModelHost.SlowModel}
            shadows:
              - name: candidate
                endpoint: {endpoint}
                model: model-candidate
          - name: {experiment}-open
            strategy: ab
            arms:
              - name: a
                weight: 1
                endpoint: {endpoint}
                model: model-a
              - name: b
                weight: 1
                endpoint: {endpoint}
                model: model-b
        """;

    [Fact]
    public async Task Handle_LagPastEachThresholdThenDrained_ShedsShadowsThenChallengersRestoresBothAndLosesNoRecord()
    {
        var experiment = "lag-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(experiment, modelHost.Endpoint),
            new Dictionary<string, string?>
            {
                // One record per model call, one call at a time: the slow model holds the router to a few dozen records a second.
                ["Router:Batching:MaxBatchSize"] = "1",
                ["Router:Batching:MaxInFlightBatches"] = "1",
                ["Router:Shedding:Enabled"] = "true",
                ["Router:Shedding:ShadowsEnterLag"] = "40",
                ["Router:Shedding:ShadowsExitLag"] = "10",
                ["Router:Shedding:ChallengersEnterLag"] = "160",
                ["Router:Shedding:ChallengersExitLag"] = "60",
                // The lag is the committed one, read from librdkafka's statistics: both often, so it follows closely.
                ["Kafka:Health:StatisticsIntervalMs"] = "100",
                ["Kafka:Consumer:AutoCommitIntervalMs"] = "100",
            },
            partitions: 1);
        var shedder = router.App.Services.GetRequiredService<LagShedder>();
        var sequence = new RecordSequence();

        // Known lag first: the group commits once its first records are predicted (by both experiments).
        router.Produce(sequence.Take(5));
        Assert.Equal(10, router.ReadPredictions(10, s_patience).Count);

        await ProduceUntilAsync(router, shedder, ShedLevel.Shadows, chunk: 20, sequence);
        await ProduceUntilAsync(router, shedder, ShedLevel.Challengers, chunk: 40, sequence);
        await WaitForLevelAsync(shedder, ShedLevel.None);

        // Restored: new records get their shadow copies and the policy's arms again.
        var restoredFrom = sequence.Produced;
        router.Produce(sequence.Take(20));
        var produced = sequence.Produced;

        var all = router.ReadPredictions(2 * produced, s_patience);
        var predictions = all.Where(p => p.Experiment == experiment).ToList();
        var open = all.Where(p => p.Experiment == experiment + "-open").ToList();
        var shadows = router.ReadShadowPredictions(produced, TimeSpan.FromSeconds(10)).Select(p => p.RequestId).ToHashSet();

        // No record lost, none predicted twice.
        Assert.Equal(produced, predictions.Count);
        Assert.Equal(Enumerable.Range(0, produced).Select(Id).Order(), predictions.Select(p => p.RequestId).Order());
        Assert.Equal(Enumerable.Range(0, produced).Select(Id).Order(), open.Select(p => p.RequestId).Order());

        // In consume order (one partition): shadows were shed before the first challenger record was, and a record
        // shed to the champion never had a shadow copy either (level 2 sheds what level 1 does).
        var byId = predictions.ToDictionary(p => p.RequestId);
        var inOrder = Enumerable.Range(0, produced).Select(i => byId[Id(i)]).ToList();
        var firstShadowShed = inOrder.FindIndex(p => !shadows.Contains(p.RequestId));
        var firstChallengerShed = inOrder.FindIndex(p => p.RoutingReason == RoutingReasons.Shed);
        Assert.True(firstShadowShed >= 0, "no shadow copy was ever shed");
        Assert.True(firstChallengerShed >= 0, "no record was ever shed to the champion");
        Assert.True(firstShadowShed < firstChallengerShed, $"the first shadow was shed at record {firstShadowShed}, the first challenger at {firstChallengerShed}");
        Assert.All(inOrder.Where(p => p.RoutingReason == RoutingReasons.Shed), p =>
        {
            Assert.Equal("champion", p.Arm);
            Assert.Equal(1.0, p.AssignmentProbability);
            Assert.DoesNotContain(p.RequestId, shadows);
        });

        // An experiment without a fallback has no champion to shed to: its policy still chooses, even at level 2.
        var shedIds = inOrder.Where(p => p.RoutingReason == RoutingReasons.Shed).Select(p => p.RequestId).ToHashSet();
        Assert.All(open, p => Assert.Equal("", p.RoutingReason));
        Assert.Contains(open, p => shedIds.Contains(p.RequestId) && p.Arm == "b");
        Assert.Contains(open, p => shedIds.Contains(p.RequestId) && p.Arm == "a");

        var restored = inOrder.Skip(restoredFrom).ToList();
        Assert.All(restored, p => Assert.Equal("", p.RoutingReason));
        Assert.All(restored, p => Assert.Contains(p.RequestId, shadows));
        Assert.Contains(restored, p => p.Arm == "challenger");
        Assert.Equal(ShedLevel.None, shedder.Current());

        // What an SRE sees: the level back at 0, and every record sent to the champion counted.
        using var http = router.CreateHttpClient(token: null);
        var shedCount = inOrder.Count(p => p.RoutingReason == RoutingReasons.Shed);
        (string, string)[] challenger = [("experiment", experiment), ("kind", "challenger")];
        var page = await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_shed_records_total", challenger) == shedCount, s_patience,
            $"{shedCount} records shed to the champion");
        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_shed_level"));
        Assert.True(PrometheusScrape.Value(page, "mesh_router_shed_records_total", ("experiment", experiment), ("kind", "shadow")) > 0);
    }

    private static string Id(int i) => $"lag-{i:D5}";


    /// <summary>Produces a chunk at a time, faster than the slow model answers, until the router sheds <paramref name="level"/>.</summary>
    private static async Task ProduceUntilAsync(RouterTestHost router, LagShedder shedder, ShedLevel level, int chunk, RecordSequence sequence)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (shedder.Current() < level)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the router never reached shedding level {level} (at {shedder.Current()} after {sequence.Produced} records)");
            router.Produce(sequence.Take(chunk));
            await Task.Delay(100);
        }
    }

    private static async Task WaitForLevelAsync(LagShedder shedder, ShedLevel level)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (shedder.Current() != level)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the router never came back to shedding level {level} (at {shedder.Current()})");
            await Task.Delay(100);
        }
    }

    /// <summary>Records numbered in the order they are produced, over ten entities.</summary>
    private sealed class RecordSequence
    {
        public int Produced { get; private set; }

        public List<FeatureRecord> Take(int count)
        {
            var records = new List<FeatureRecord>(count);
            for (var end = Produced + count; Produced < end; Produced++)
            {
                records.Add(new FeatureRecord
                {
                    RequestId = Id(Produced),
                    EntityId = $"entity-{Produced % 10}",
                    EventTime = ProtoTimestamp.FromDateTime(DateTime.UtcNow),
                    Values = { Produced % 10, 1, 2, 3 },
                });
            }

            return records;
        }
    }
}
