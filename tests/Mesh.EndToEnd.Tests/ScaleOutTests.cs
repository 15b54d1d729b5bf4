using System.Diagnostics;
using Confluent.Kafka;
using Mesh.Cli.Processes;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Testing;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Routers scaled out and in while records stream, as separate processes in one consumer group: two, then a third
/// added, one stopped (SIGTERM), one SIGKILLed and restarted under the same static-membership instance name. An
/// independent reader checks every record got its primary prediction and duplicates only straddle the kill.
/// </summary>
public sealed class ScaleOutTests(KafkaTestCluster kafka, ITestOutputHelper output) : IClassFixture<KafkaTestCluster>, IAsyncLifetime
{
    private const int Records = 6000;
    private const int Rate = 300;
    private const int Partitions = 6;

    // At-least-once: a router stores a record's offset once its prediction is acknowledged, and the consumer commits
    // stored offsets every second (KafkaClientFactory's AutoCommitIntervalMs). A SIGKILL replays, at most, what the
    // router took in since its last commit (one interval of records: the kill waits until the mesh lags by less than
    // one second of records, so its intake runs at the producer's rate, plus that lag) and what it had in flight (4
    // batches of 64 per arm, 2 arms).
    private const int DuplicateBound = (Rate * 1) + Rate + (4 * 64 * 2);
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(120);
    private readonly string _work = Directory.CreateTempSubdirectory("mesh-scale-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Routers_AddedStoppedKilledAndRestartedWhileRecordsStream_EveryRecordPredictedDuplicatesOnlyAcrossTheKill()
    {
        var topics = new MeshTopics
        {
            Features = KafkaTestCluster.UniqueTopic("scale.features"),
            Predictions = KafkaTestCluster.UniqueTopic("scale.predictions"),
            ShadowPredictions = KafkaTestCluster.UniqueTopic("scale.shadow"),
            Labels = KafkaTestCluster.UniqueTopic("scale.labels"),
            DeadLetter = KafkaTestCluster.UniqueTopic("scale.dead-letter"),
        };
        await kafka.CreateTopicsAsync(Partitions, [.. topics.All]);
        await using var mesh = new ScaleOutMesh(kafka, topics, _work);
        using var tail = new PredictionTail(kafka.BootstrapServers, topics.Predictions, Partitions);
        var ports = new Dictionary<string, int> { ["a"] = ServiceProcess.FreePort(), ["b"] = ServiceProcess.FreePort(), ["c"] = ServiceProcess.FreePort() };
        try
        {
            var host = mesh.StartModelHost();
            var a = mesh.StartRouter("a", ports["a"]);
            var b = mesh.StartRouter("b", ports["b"]);
            Assert.True(await ScaleOutMesh.HealthyAsync(a, ports["a"], s_patience), "router a healthy");
            Assert.True(await ScaleOutMesh.HealthyAsync(b, ports["b"], s_patience), "router b healthy");
            Assert.False(host.HasExited, "model host running");

            var producer = mesh.StartProducer(Records, Rate);

            // Scale out: a third router joins while records stream.
            Assert.True(await tail.WaitForAsync(t => t.Distinct >= 600, s_patience), $"predictions flowing: {tail.Distinct}");
            var c = mesh.StartRouter("c", ports["c"]);
            Assert.True(await ScaleOutMesh.HealthyAsync(c, ports["c"], s_patience), "router c healthy");

            // Scale in, gracefully: SIGTERM, as Kubernetes stops a pod, once the three routers share the partitions (a SIGTERM
            // during the rebalance itself is Routers_SigtermDuringARebalance_ExitsZero).
            Assert.True(await tail.WaitForAsync(_ => GroupAssignment.Settled([a, b, c], topics.Features, Partitions), s_patience), "the three routers share the partitions");
            Assert.True(await tail.WaitForAsync(t => t.Distinct >= 1800, s_patience), $"predictions flowing with three routers: {tail.Distinct}");
            ServiceProcess.Signal(a.Id, 15);
            Assert.Equal(0, await a.WaitForExitAsync(s_patience));

            // A crash: SIGKILL once the mesh is caught up (see DuplicateBound), then the same instance comes back.
            Assert.True(await tail.WaitForAsync(_ => GroupAssignment.Settled([b, c], topics.Features, Partitions), s_patience), "the two routers left share the partitions");
            Assert.True(await tail.WaitForAsync(t => t.Distinct >= 3000 && Produced(topics.Features) - t.Distinct <= Rate, s_patience), $"caught up after the scale-in: {tail.Distinct}");
            Assert.False(b.HasExited, "router b still running before the kill");
            var killedAt = DateTime.UtcNow;
            b.Kill();
            var restarted = Stopwatch.StartNew();
            var b2 = mesh.StartRouter("b", ports["b"]);
            var predictedAtKill = tail.Distinct;

            Assert.Equal(0, await producer.WaitForExitAsync(s_patience));
            var sent = SentRequestIds(topics.Features);
            Assert.Equal(Records, sent.Count);
            Assert.True(await tail.WaitForAsync(t => sent.All(t.Contains), s_patience), $"every record predicted: {tail.Distinct} of {Records}");
            Assert.True(await tail.WaitForAsync(_ => b2.Output.Contains($"Assigned {topics.Features} [[", StringComparison.Ordinal), s_patience), "the restarted router took partitions back");
            output.WriteLine($"restarted router b had its partitions back {restarted.Elapsed.TotalSeconds:F1} s after its start; {predictedAtKill} of {Records} predicted at the kill");

            var duplicates = tail.Duplicates();
            output.WriteLine($"{tail.Records} prediction records for {tail.Distinct} request ids: {duplicates.Count} duplicated (bound {DuplicateBound})");
            Assert.All(duplicates, d => Assert.True(d.Value[0] < killedAt && d.Value[^1] >= killedAt, $"{d.Key} duplicated away from the kill: {string.Join(", ", d.Value.Select(t => t.ToString("O")))}"));
            Assert.InRange(duplicates.Count, 0, DuplicateBound);
            Assert.Equal(duplicates.Count, duplicates.Sum(d => d.Value.Length - 1));
            Assert.All(new[] { b2, c, host }, p => Assert.False(p.HasExited, $"{p.Name} exited with {(p.HasExited ? p.ExitCode : 0)}"));
        }
        catch
        {
            foreach (var process in mesh.Processes)
            {
                output.WriteLine($"===== {process.Name} (exited: {process.HasExited}) =====");
                output.WriteLine(process.Output);
            }

            throw;
        }
    }

    [Fact(Skip = "Defect: RouterWorker.Shutdown's consumer.Commit() throws REBALANCE_IN_PROGRESS during a rebalance; the router exits 70 with its stored offsets uncommitted")]
    public async Task Routers_SigtermDuringARebalance_ExitsZero()
    {
        var topics = new MeshTopics
        {
            Features = KafkaTestCluster.UniqueTopic("rebalance.features"),
            Predictions = KafkaTestCluster.UniqueTopic("rebalance.predictions"),
            ShadowPredictions = KafkaTestCluster.UniqueTopic("rebalance.shadow"),
            Labels = KafkaTestCluster.UniqueTopic("rebalance.labels"),
            DeadLetter = KafkaTestCluster.UniqueTopic("rebalance.dead-letter"),
        };
        await kafka.CreateTopicsAsync(Partitions, [.. topics.All]);
        await using var mesh = new ScaleOutMesh(kafka, topics, _work);
        using var tail = new PredictionTail(kafka.BootstrapServers, topics.Predictions, Partitions);
        mesh.StartModelHost();
        var (aPort, bPort) = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
        var a = mesh.StartRouter("a", aPort);
        Assert.True(await ScaleOutMesh.HealthyAsync(a, aPort, s_patience), "router a healthy");
        mesh.StartProducer(Records, Rate);
        Assert.True(await tail.WaitForAsync(t => t.Distinct >= 300, s_patience), $"predictions flowing: {tail.Distinct}");

        // A second member joins: the group rebalances, and a stops while it does (a rolling update does exactly this).
        var b = mesh.StartRouter("b", bPort);
        Assert.True(await tail.WaitForAsync(_ => b.Output.Contains("Consuming", StringComparison.Ordinal), s_patience), "router b consuming");
        ServiceProcess.Signal(a.Id, 15);

        var exit = await a.WaitForExitAsync(s_patience);
        Assert.True(exit == 0, a.Output);
    }

    // Records on the features topic so far (the sum of the partitions' high watermarks).
    private long Produced(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "watermarks-" + Guid.NewGuid().ToString("N") }).Build();
        return Enumerable.Range(0, Partitions).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    private HashSet<string> SentRequestIds(string topic) =>
        [.. kafka.ReadAll(topic, Records, s_patience, IsolationLevel.ReadUncommitted).Select(r => FeatureRecord.Parser.ParseFrom(r.Message.Value).RequestId)];
}
