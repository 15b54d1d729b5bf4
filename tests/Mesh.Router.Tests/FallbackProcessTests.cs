namespace Mesh.Router.Tests;

/// <summary>
/// Fallback against real model host processes: the challenger's host is SIGKILLed while records stream through the
/// router, then started again on the same gRPC port.
/// </summary>
public sealed class FallbackProcessTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>, IDisposable
{
    private const string Experiment = "fallback-process";
    private const int Entities = 40;
    private const int ChunkSize = 10;
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    private readonly string _work = Directory.CreateTempSubdirectory("router-fallback-process-").FullName;

    [Fact]
    public async Task Fallback_ChallengerHostProcessKilledMidStreamAndRestarted_NoneMissingChampionAnswersThenChallengerAgain()
    {
        var models = Path.Combine(_work, "models");
        DemoModelTrainer.Train(Path.Combine(TestRepository.Root, "data", "iris.csv"), models, TextWriter.Null);
        var (championHost, championGrpcPort) = await StartModelHostAsync("champion-model-host", models);
        await using var champion = championHost;
        var (challenger, challengerGrpcPort) = await StartModelHostAsync("challenger-model-host", models);
        try
        {
            var spec = $"""
                experiments:
                  - name: {Experiment}
                    strategy: ab
                    fallback: champion
                    arms:
                      - name: champion
                        weight: 50
                        endpoint: http://127.0.0.1:{championGrpcPort}
                        model: {DemoModelTrainer.LogisticRegressionName}
                        version: "{DemoModelTrainer.ModelVersion}"
                      - name: challenger
                        weight: 50
                        endpoint: http://127.0.0.1:{challengerGrpcPort}
                        model: {DemoModelTrainer.BoostedTreesName}
                        version: "{DemoModelTrainer.ModelVersion}"
                        timeoutMs: 3000
                """;

            // The router waits for both hosts' models before it consumes.
            await using var router = await RouterTestHost.StartAsync(cluster, spec, new Dictionary<string, string?>
            {
                ["Router:ModelWaitSeconds"] = "60",
                ["Router:CircuitBreaker:FailureThreshold"] = "2",
                ["Router:CircuitBreaker:BreakMs"] = "200",
            });
            var assigner = new ArmAssigner(Experiment, [50, 50]);

            // Records stream in chunks while the challenger's process is killed.
            var chunksProduced = 0;
            var stopProducing = new TaskCompletionSource();
            var stream = Task.Run(async () =>
            {
                for (var chunk = 0; !stopProducing.Task.IsCompleted; chunk++)
                {
                    router.Produce(Chunk("stream", chunk));
                    Volatile.Write(ref chunksProduced, chunk + 1);
                    await Task.Delay(50);
                }
            });

            // The challenger has answered part of the stream before it is killed.
            var challengerAnswered = WaitFor(
                () => router.ReadPredictions(Volatile.Read(ref chunksProduced) * ChunkSize, TimeSpan.FromSeconds(5)),
                predictions => predictions.Any(p => p.Arm == "challenger" && !p.Fallback));
            Assert.True(challengerAnswered, "the challenger never answered before the kill. " + challenger.Output);

            challenger.Kill();
            await challenger.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await challenger.DisposeAsync();

            // The chunk being produced at the kill may have gone out before it; every later one surely came after.
            var firstChunkAfterKill = Volatile.Read(ref chunksProduced) + 1;
            while (Volatile.Read(ref chunksProduced) < firstChunkAfterKill + 10)
            {
                Assert.False(stream.IsCompleted, "the producing task ended early");
                await Task.Delay(50);
            }

            stopProducing.SetResult();
            await stream;
            var streamed = Enumerable.Range(0, chunksProduced).SelectMany(c => Chunk("stream", c)).ToList();
            var streamPredictions = router.ReadPredictions(streamed.Count, s_patience);

            // Every record has exactly one Prediction, the ones the killed host had in flight included.
            Assert.Equal(streamed.Select(r => r.RequestId).Order(), streamPredictions.Select(p => p.RequestId).Order());
            Assert.All(streamPredictions, p => Assert.Equal(assigner.Assign(p.EntityId) == 0 ? "champion" : "challenger", p.Arm));
            var afterKill = streamPredictions.Where(p => ChunkOf(p.RequestId) >= firstChunkAfterKill).ToList();
            Assert.Contains(afterKill, p => p.Arm == "challenger");
            Assert.All(afterKill, p =>
            {
                // The arm stays the one assigned; the champion's model answered, and the Prediction says so.
                Assert.Equal((p.Arm == "challenger", DemoModelTrainer.LogisticRegressionName), (p.Fallback, p.ModelName));
            });

            // The challenger's host comes back on the same gRPC port: once the circuit lets a probe through, it
            // answers its own entities again.
            (challenger, _) = await StartModelHostAsync("challenger-model-host", models, challengerGrpcPort);
            var produced = streamed.Count;
            var recovered = false;
            var deadline = DateTime.UtcNow + s_patience;
            for (var round = 0; !recovered && DateTime.UtcNow < deadline; round++)
            {
                Assert.False(challenger.HasExited, "the restarted challenger host exited. " + challenger.Output);
                router.Produce(Chunk($"back{round}", 0));
                produced += ChunkSize;
                var all = router.ReadPredictions(produced, s_patience);
                Assert.Equal(produced, all.Count);
                Assert.Equal(produced, all.Select(p => p.RequestId).Distinct().Count());
                recovered = all.Any(p => p.RequestId.StartsWith($"back{round}-", StringComparison.Ordinal)
                    && p.Arm == "challenger"
                    && !p.Fallback
                    && p.ModelName == DemoModelTrainer.BoostedTreesName);
                if (!recovered)
                {
                    await Task.Delay(250);
                }
            }

            Assert.True(recovered, "the challenger never answered again after its host came back. " + challenger.Output);
            Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
        }
        finally
        {
            await challenger.DisposeAsync();
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // The spec names the gRPC port, so it is picked before the start (and picked again if another process takes it
    // first); a restart is told the same port, as the router already has it.
    private static async Task<(ServiceProcess Host, int GrpcPort)> StartModelHostAsync(string name, string models, int? samePort = null)
    {
        var grpcPort = 0;
        var host = await ServiceProcess.StartBoundAsync(name, ServiceProcess.ServiceDll(TestRepository.Root, TestRepository.Configuration, "model-host", "Mesh.ModelHost"), ports =>
        {
            grpcPort = samePort ?? ports.Next();
            return new Dictionary<string, string>
            {
                ["ModelHost__ModelRepository"] = models,
                ["Kestrel__Endpoints__Http__Url"] = LoopbackPorts.Url(0),
                ["Kestrel__Endpoints__Grpc__Url"] = LoopbackPorts.Url(grpcPort),
            };
        }, s_patience);
        return (host, grpcPort);
    }

    /// <summary>Records <c>{prefix}-{chunk}-{i}</c>, each chunk on the next ten of the entities, with iris-like features.</summary>
    private static List<FeatureRecord> Chunk(string prefix, int chunk) =>
        Enumerable.Range(0, ChunkSize).Select(i => new FeatureRecord
        {
            RequestId = $"{prefix}-{chunk}-{i}",
            EntityId = $"entity-{((chunk * ChunkSize) + i) % Entities}",
            EventTime = ProtoTimestamp.FromDateTime(DateTime.UtcNow),
            Values = { 4.5f + (i % 4), 3.0f, 1.0f + (i % 5), 0.2f + (i % 3) },
        }).ToList();

    private static int ChunkOf(string requestId) => int.Parse(requestId.Split('-')[1], CultureInfo.InvariantCulture);

    private static bool WaitFor(Func<List<Prediction>> read, Func<List<Prediction>, bool> condition)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (DateTime.UtcNow < deadline)
        {
            if (condition(read()))
            {
                return true;
            }
        }

        return false;
    }
}
