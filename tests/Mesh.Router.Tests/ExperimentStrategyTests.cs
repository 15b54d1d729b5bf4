namespace Mesh.Router.Tests;

/// <summary>Shadows, fallback and ensembles on a running router, against real gRPC model hosts.</summary>
public sealed class ExperimentStrategyTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const int Entities = 40;
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Shadows_OneHangingAndOneFailing_PrimaryPredictionsAllArriveUnchangedWhileTheShadowHangs()
    {
        const int Count = 300;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: shadow-ab
                strategy: ab
                arms:
                  - name: a
                    weight: 50
                    endpoint: {modelHost.Endpoint}
                    model: model-a
                  - name: b
                    weight: 50
                    endpoint: {modelHost.Endpoint}
                    model: model-b
                shadows:
                  - name: hanging
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.GatedModel}
                    timeoutMs: 120000
                  - name: failing
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.BrokenModel}
            """,
            new Dictionary<string, string?> { ["Router:Shadow:MaxInFlightBatches"] = "1" });
        var records = RouterTestHost.Records("shadowed", Count, Entities);
        router.Produce(records);

        // The hanging shadow holds its only batch until the gate opens: every primary prediction must arrive before.
        var primary = router.ReadPredictions(Count, s_patience);
        var deadLetters = router.ReadDeadLetters(1, TimeSpan.FromSeconds(2));
        var shadowsBeforeRelease = router.ReadShadowPredictions(1, TimeSpan.FromSeconds(1));
        modelHost.ReleaseGate();
        Assert.NotEmpty(router.ReadShadowPredictions(1, s_patience));
        var shadows = router.ReadShadowPredictions(Count, TimeSpan.FromSeconds(3));

        Assert.Equal(records.Select(r => r.RequestId).Order(), primary.Select(p => p.RequestId).Order());
        var assigner = new ArmAssigner("shadow-ab", [50, 50]);
        var byId = records.ToDictionary(r => r.RequestId);
        Assert.All(primary, p =>
        {
            Assert.False(p.Shadow);
            Assert.False(p.Fallback);
            Assert.Equal(assigner.Assign(p.EntityId) == 0 ? "a" : "b", p.Arm);
            Assert.Equal(FakeModelHost.Classify(byId[p.RequestId].Values[0]), p.Output.Label);
        });
        Assert.Empty(deadLetters);
        Assert.Empty(shadowsBeforeRelease);

        // What the hanging shadow scored went to the shadow topic only; what found its one batch busy was shed.
        Assert.NotEmpty(shadows);
        Assert.True(shadows.Count < Count, $"{shadows.Count} shadow predictions: none was shed");
        Assert.All(shadows, s =>
        {
            Assert.True(s.Shadow);
            Assert.Equal(("hanging", FakeModelHost.GatedModel, 1.0), (s.Arm, s.ModelName, s.AssignmentProbability));
            Assert.Equal(FakeModelHost.Classify(byId[s.RequestId].Values[0]), s.Output.Label);
        });
        Assert.DoesNotContain(primary, p => p.Arm is "hanging" or "failing");
    }

    [Fact]
    public async Task Fallback_ChallengerHostStoppedMidStreamAndRestarted_ChampionAnswersThenChallengerAgain()
    {
        await using var championHost = await FakeModelHost.StartAsync();
        var challengerHost = await FakeModelHost.StartAsync();
        var challengerPort = challengerHost.Port;
        var spec = $"""
            experiments:
              - name: fallback-ab
                strategy: ab
                fallback: champion
                arms:
                  - name: champion
                    weight: 50
                    endpoint: {championHost.Endpoint}
                    model: model-champion
                  - name: challenger
                    weight: 50
                    endpoint: {challengerHost.Endpoint}
                    model: model-challenger
                    timeoutMs: 3000
            """;
        await using var router = await RouterTestHost.StartAsync(cluster, spec, new Dictionary<string, string?>
        {
            ["Router:CircuitBreaker:FailureThreshold"] = "2",
            ["Router:CircuitBreaker:BreakMs"] = "200",
        });
        try
        {
            var assigner = new ArmAssigner("fallback-ab", [50, 50]);
            router.Produce(RouterTestHost.Records("up", 100, Entities));
            var up = router.ReadPredictions(100, s_patience);
            Assert.Equal(100, up.Count);
            Assert.All(up, p => Assert.Equal((false, p.Arm == "champion" ? "model-champion" : "model-challenger"), (p.Fallback, p.ModelName)));

            await challengerHost.DisposeAsync();
            var down = RouterTestHost.Records("down", 100, Entities);
            router.Produce(down);
            var downPredictions = router.ReadPredictions(200, s_patience).Where(p => p.RequestId.StartsWith("down-", StringComparison.Ordinal)).ToList();

            Assert.Equal(down.Select(r => r.RequestId).Order(), downPredictions.Select(p => p.RequestId).Order());
            var byId = down.ToDictionary(r => r.RequestId);
            Assert.All(downPredictions, p =>
            {
                // The arm stays the one assigned, so per-arm results stay honest; the Prediction says who answered.
                Assert.Equal(assigner.Assign(p.EntityId) == 0 ? "champion" : "challenger", p.Arm);
                Assert.Equal((p.Arm == "challenger", "model-champion"), (p.Fallback, p.ModelName));
                Assert.Equal(FakeModelHost.Classify(byId[p.RequestId].Values[0]), p.Output.Label);
            });
            Assert.Contains(downPredictions, p => p.Fallback);

            // Back on the same port: once the circuit lets a probe through, the challenger answers again.
            challengerHost = await FakeModelHost.StartAsync(challengerPort);
            var produced = 200;
            var recovered = false;
            var deadline = DateTime.UtcNow + s_patience;
            for (var round = 0; !recovered && DateTime.UtcNow < deadline; round++)
            {
                router.Produce(RouterTestHost.Records($"back{round}", 20, Entities));
                produced += 20;
                var all = router.ReadPredictions(produced, s_patience);
                Assert.Equal(produced, all.Count);
                recovered = all.Any(p => p.RequestId.StartsWith($"back{round}-", StringComparison.Ordinal) && p.Arm == "challenger" && !p.Fallback);
            }

            Assert.True(recovered, "the challenger never answered again after its host came back");
            Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
        }
        finally
        {
            await challengerHost.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("vote", false)]
    [InlineData("mean", false)]
    [InlineData("weighted-mean", true)]
    public async Task Ensemble_ThreeMembers_OnePredictionPerRecordCombinedAsConfigured(string combine, bool constantWins)
    {
        const int Count = 60;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: ensemble-{combine}
                strategy: ensemble
                ensemble:
                  combine: {combine}
                arms:
                  - name: first
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-first
                  - name: constant
                    weight: 5
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.ConstantModel}
                  - name: second
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-second
            """);
        var records = RouterTestHost.Records("ensemble", Count, Entities);
        router.Produce(records);

        var predictions = router.ReadPredictions(Count, s_patience);
        // Nothing beyond one Prediction per record (members' answers are never produced on their own).
        Assert.Equal(Count, router.ReadPredictions(Count + 1, TimeSpan.FromSeconds(1)).Count);

        Assert.Equal(records.Select(r => r.RequestId).Order(), predictions.Select(p => p.RequestId).Order());
        var byId = records.ToDictionary(r => r.RequestId);
        Assert.All(predictions, p =>
        {
            Assert.Equal(("ensemble", "model-first+constant+model-second"), (p.Arm, p.ModelName));
            // The constant model's scores put all weight on the first class ("large"); with weight 5 of 7 it wins.
            var expected = constantWins ? "large" : FakeModelHost.Classify(byId[p.RequestId].Values[0]);
            Assert.Equal(expected, p.Output.Label);
        });
    }
}
