namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Routers scaled out and in while records stream, as separate processes in one consumer group: two, then a third
/// added, one stopped (SIGTERM), one SIGKILLed and restarted under the same static-membership instance name. An
/// independent reader checks every record got its primary prediction and duplicates only come from the killed router's partitions.
/// </summary>
public sealed class ScaleOutTests(KafkaTestCluster kafka, ITestOutputHelper output) : IClassFixture<KafkaTestCluster>, IAsyncLifetime
{
    private const int Records = 24_000;
    private const int Rate = 200;
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
    public async Task Routers_AddedStoppedKilledAndRestartedWhileRecordsStream_EveryRecordPredictedDuplicatesOnlyFromTheKilledRouter()
    {
        var topics = await kafka.CreateMeshTopicsAsync(Partitions, "scale");
        await using var mesh = new ScaleOutMesh(kafka, topics, _work);
        using var tail = new PredictionTail(kafka.BootstrapServers, topics.Predictions, Partitions);
        try
        {
            var host = await mesh.StartModelHostAsync();
            var a = await mesh.StartRouterAsync("a");
            var b = await mesh.StartRouterAsync("b");
            Assert.True(await ScaleOutMesh.HealthyAsync(a, s_patience), "router a healthy");
            Assert.True(await ScaleOutMesh.HealthyAsync(b, s_patience), "router b healthy");
            Assert.False(host.HasExited, "model host running");

            var producer = await mesh.StartProducerAsync(Records, Rate);

            // Scale out: a third router joins while records stream.
            Assert.True(await tail.WaitForAsync(t => t.Distinct >= 600, s_patience), $"predictions flowing: {tail.Distinct}");
            var c = await mesh.StartRouterAsync("c");
            Assert.True(await ScaleOutMesh.HealthyAsync(c, s_patience), "router c healthy");

            // Scale in, gracefully: SIGTERM, as Kubernetes stops a pod, once the three routers share the partitions (a SIGTERM
            // during the rebalance itself is Routers_SigtermDuringARebalance_ExitsZero).
            Assert.True(await StableAsync(tail, mesh.Group, topics.Features, [a, b, c]), "the three routers share the partitions and commit");
            Assert.True(await tail.WaitForAsync(t => t.Distinct >= 1800, s_patience), $"predictions flowing with three routers: {tail.Distinct}");
            ServiceProcess.Signal(a.Id, 15);
            Assert.Equal(0, await a.WaitForExitAsync(s_patience));

            // A crash: SIGKILL once the mesh is caught up (see DuplicateBound), then the same instance comes back.
            Assert.True(await StableAsync(tail, mesh.Group, topics.Features, [b, c]), "the two routers left share the partitions and commit");
            Assert.True(await tail.WaitForAsync(t => t.Distinct >= 3000 && Produced(topics.Features) - t.Distinct <= Rate, s_patience), $"caught up after the scale-in: {tail.Distinct}");
            Assert.False(b.HasExited, "router b still running before the kill");
            var ownedAtKill = GroupAssignment.Owned(b, topics.Features);
            b.Kill();
            var restarted = Stopwatch.StartNew();
            var starting = mesh.StartRouterAsync("b");
            var predictedAtKill = tail.Distinct;
            var b2 = await starting;
            var backAfter = tail.WaitForAsync(_ => b2.Output.Contains($"Assigned {topics.Features} [[", StringComparison.Ordinal), s_patience)
                .ContinueWith(t => (Back: t.Result, After: restarted.Elapsed), TaskScheduler.Default);
            Assert.True(predictedAtKill < Records - Rate, $"the kill came with records still streaming: {predictedAtKill} of {Records} predicted");

            Assert.Equal(0, await producer.WaitForExitAsync(s_patience));
            var sent = SentRequestIds(topics.Features);
            Assert.Equal(Records, sent.Count);
            Assert.True(await tail.WaitForAsync(t => sent.Keys.All(t.Contains), s_patience), $"every record predicted: {tail.Distinct} of {Records}");
            var (back, after) = await backAfter;
            Assert.True(back, "the restarted router took partitions back");
            output.WriteLine($"restarted router b had partitions again {after.TotalSeconds:F1} s after its start; {predictedAtKill} of {Records} predicted at the kill; it owned {string.Join(",", ownedAtKill)}");

            var duplicates = tail.Duplicates();
            output.WriteLine($"{tail.Records} prediction records for {tail.Distinct} request ids: {duplicates.Count} duplicated (bound {DuplicateBound})");
            // Every duplicate is explained: a record of a partition the killed router owned (replayed from its last
            // commit), or of one whose commit the group refused while a rebalance was in progress. The embedded broker
            // refuses every commit from the first join of a rebalance until the group is stable again, the one a
            // router makes as its partition is revoked included when another member rejoined first; a real
            // coordinator stores it (README, "What the embedded broker cannot show"; EmbeddedBrokerGroupTests). The
            // next owner then starts from the commit before. Both are at-least-once.
            var refused = GroupAssignment.RefusedCommits(mesh.Processes, topics.Features);
            output.WriteLine($"partitions whose commit the group refused during a rebalance: {string.Join(",", refused)}");
            Assert.All(duplicates, d => Assert.True(ownedAtKill.Contains(sent[d.Key]) || refused.Contains(sent[d.Key]),
                $"{d.Key} of partition {sent[d.Key]} duplicated, neither one of the killed router's ({string.Join(",", ownedAtKill)}) nor one whose commit was refused ({string.Join(",", refused)})"));
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

    [Fact]
    public async Task Routers_SigtermDuringARebalance_ExitsZero()
    {
        var topics = await kafka.CreateMeshTopicsAsync(Partitions, "rebalance");
        await using var mesh = new ScaleOutMesh(kafka, topics, _work);
        using var tail = new PredictionTail(kafka.BootstrapServers, topics.Predictions, Partitions);
        await mesh.StartModelHostAsync();
        var a = await mesh.StartRouterAsync("a");
        Assert.True(await ScaleOutMesh.HealthyAsync(a, s_patience), "router a healthy");
        await mesh.StartProducerAsync(Records, Rate);
        Assert.True(await tail.WaitForAsync(t => t.Distinct >= 300, s_patience), $"predictions flowing: {tail.Distinct}");

        // A second member joins: the group rebalances, and a stops while it does (a rolling update does exactly this).
        var b = await mesh.StartRouterAsync("b");
        Assert.True(await tail.WaitForAsync(_ => b.Output.Contains("Consuming", StringComparison.Ordinal), s_patience), "router b consuming");
        ServiceProcess.Signal(a.Id, 15);

        var exit = await a.WaitForExitAsync(s_patience);
        Assert.True(exit == 0, a.Output);
    }

    // The group is done rebalancing: the members own every partition between them and their offset commits go through
    // again (during a rebalance the broker refuses them), seen as the group's committed offsets moving on.
    private async Task<bool> StableAsync(PredictionTail tail, string group, string topic, ServiceProcess[] members)
    {
        if (!await tail.WaitForAsync(_ => GroupAssignment.Settled(members, topic, Partitions), s_patience))
        {
            return false;
        }

        // Three commits in a row: on the embedded broker a cooperative rebalance runs in two rounds, the second starting
        // a moment after the first hands out every partition, and commits fail until it ends.
        for (var commits = 0; commits < 3; commits++)
        {
            var before = kafka.CommittedTotal(group, topic, Partitions);
            if (!await tail.WaitForAsync(_ => kafka.CommittedTotal(group, topic, Partitions) > before && GroupAssignment.Settled(members, topic, Partitions), s_patience))
            {
                return false;
            }
        }

        return true;
    }

    // Records on the features topic so far (the sum of the partitions' high watermarks).
    private long Produced(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "watermarks-" + Guid.NewGuid().ToString("N") }).Build();
        return Enumerable.Range(0, Partitions).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    // Each request id sent, with its features partition.
    private Dictionary<string, int> SentRequestIds(string topic) =>
        kafka.ReadAll(topic, Records, s_patience, IsolationLevel.ReadUncommitted)
            .GroupBy(r => FeatureRecord.Parser.ParseFrom(r.Message.Value).RequestId)
            .ToDictionary(g => g.Key, g => g.First().Partition.Value);
}
