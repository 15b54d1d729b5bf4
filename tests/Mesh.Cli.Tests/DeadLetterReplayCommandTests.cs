namespace Mesh.Cli.Tests;

public sealed class DeadLetterReplayCommandTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly ReplayRules s_rules = new(To: null, FixUps: [], MaxAttempts: 3, Predicted: null);

    [Fact]
    public async Task Run_DryRun_PrintsThePlanAndSendsNothing()
    {
        var (dlq, source) = await TopicsAsync();
        DeadLetterTraffic.Produce(cluster.BootstrapServers, dlq,
        [
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("d1"), source, "Timeout", "model host"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("d2"), source, "Timeout", "model host"),
        ]);
        var output = new StringWriter();

        var exit = DeadLetterReplayCommand.Run(new DeadLetterReplaySettings(cluster.BootstrapServers, dlq, DeadLetterFilter.All, s_rules, DryRun: true, null), output, null, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Contains($"would send {dlq}/0/0 -> {source} request d1, attempt 2", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("would replay 2;", output.ToString(), StringComparison.Ordinal);
        Assert.Empty(ReadTopic(source));
    }

    [Fact]
    public async Task Run_ByReason_SendsExactlyTheChosenRecordsWithReplayHeadersAndSkipsSpentAttempts()
    {
        var (dlq, source) = await TopicsAsync();
        DeadLetterTraffic.Produce(cluster.BootstrapServers, dlq,
        [
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("a"), source, "Timeout", "model host"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("b"), source, "BadRecord", "wrong names"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("c"), source, "Timeout", "model host", attempt: 2),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("d"), source, "Timeout", "model host", attempt: 3),
        ]);
        var output = new StringWriter();

        var exit = DeadLetterReplayCommand.Run(
            new DeadLetterReplaySettings(cluster.BootstrapServers, dlq, new DeadLetterFilter(Reason: "timeout"), s_rules, DryRun: false, null),
            output, new StringWriter(), CancellationToken.None);

        Assert.Equal(0, exit);
        var sent = ReadTopic(source).OrderBy(r => RecordValue.RequestId(r.Message.Value)).ToList();
        Assert.Equal(["a", "c"], sent.Select(r => RecordValue.RequestId(r.Message.Value)));
        Assert.Equal($"{dlq}/0/0", Header(sent[0], ReplayHeaders.Replay));
        Assert.Equal("2", Header(sent[0], ReplayHeaders.Attempt));
        Assert.Equal($"{dlq}/0/2", Header(sent[1], ReplayHeaders.Replay));
        Assert.Equal("3", Header(sent[1], ReplayHeaders.Attempt));
        Assert.Equal(DeadLetterTraffic.Feature("a").ToByteArray(), sent[0].Message.Value);
        Assert.Equal("entity-a", Encoding.UTF8.GetString(sent[0].Message.Key));
        Assert.Contains("replayed 2; skipped as already predicted 0; skipped for attempts 1;", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_FixUpToAnotherTopic_SendsTheRepairedRecord()
    {
        var (dlq, source) = await TopicsAsync();
        var other = await cluster.CreateFreshTopicAsync(1, "replay-to");
        DeadLetterTraffic.Produce(cluster.BootstrapServers, dlq,
            [DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("n", 5f, float.NaN, 1f, float.NegativeInfinity), source, "BadRecord", "non-finite value")]);
        var rules = s_rules with { To = other, FixUps = [FeatureFixUp.Parse("replace-non-finite=0.5")] };

        var exit = DeadLetterReplayCommand.Run(new DeadLetterReplaySettings(cluster.BootstrapServers, dlq, DeadLetterFilter.All, rules, DryRun: false, null), new StringWriter(), null, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Empty(ReadTopic(source));
        var record = FeatureRecord.Parser.ParseFrom(Assert.Single(ReadTopic(other)).Message.Value);
        Assert.Equal([5f, 0.5f, 1f, 0.5f], record.Values);
        Assert.Equal("n", record.RequestId);
    }

    [Fact]
    public async Task Run_SecondReplayWithSkipPredicted_SkipsRecordsAlreadyPredicted()
    {
        var (dlq, source) = await TopicsAsync();
        var predictions = await cluster.CreateFreshTopicAsync(2, "replay-predictions");
        DeadLetterTraffic.Produce(cluster.BootstrapServers, dlq,
        [
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("p1"), source, "Timeout", "model host"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("p2"), source, "Timeout", "model host"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("p3"), source, "Timeout", "model host"),
        ]);
        var settings = new DeadLetterReplaySettings(cluster.BootstrapServers, dlq, DeadLetterFilter.All, s_rules, DryRun: false, predictions);
        Assert.Equal(0, DeadLetterReplayCommand.Run(settings, new StringWriter(), null, CancellationToken.None));
        Assert.Equal(3, ReadTopic(source).Count);

        // The router predicted two of the three replayed records; the third failed again somewhere downstream.
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            foreach (var id in new[] { "p1", "p3" })
            {
                producer.Produce(predictions, new Message<byte[], byte[]> { Key = [], Value = new Prediction { RequestId = id, Arm = "logreg" }.ToByteArray() });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var output = new StringWriter();
        Assert.Equal(0, DeadLetterReplayCommand.Run(settings, output, null, CancellationToken.None));

        var sent = ReadTopic(source).Select(r => RecordValue.RequestId(r.Message.Value)).ToList();
        Assert.Equal(4, sent.Count);
        Assert.Equal(2, sent.Count(id => id == "p2"));
        Assert.Contains("replayed 1; skipped as already predicted 2;", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_RecordTheProducerCannotSend_CountsItFailedAndExitsNonZero()
    {
        var (dlq, source) = await TopicsAsync();
        var big = DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("big"), source, "Timeout", "model host");
        big.Value = Google.Protobuf.ByteString.CopyFrom(new byte[1_100_000]);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, MessageMaxBytes = 2_000_000 }).Build())
        {
            producer.Produce(new TopicPartition(dlq, 0), new Message<byte[], byte[]> { Key = [], Value = big.ToByteArray() });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        DeadLetterTraffic.Produce(cluster.BootstrapServers, dlq, [DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("small"), source, "Timeout", "model host")]);
        var output = new StringWriter();

        var exit = DeadLetterReplayCommand.Run(new DeadLetterReplaySettings(cluster.BootstrapServers, dlq, DeadLetterFilter.All, s_rules, DryRun: false, null), output, null, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Equal(["small"], ReadTopic(source).Select(r => RecordValue.RequestId(r.Message.Value)));
        Assert.Contains($"failed {dlq}/0/0 -> {source}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("replayed 1;", output.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("failed 1", output.ToString().TrimEnd(), StringComparison.Ordinal);
    }

    private async Task<(string DeadLetters, string Source)> TopicsAsync()
    {
        var dlq = KafkaTestCluster.UniqueTopic("replay-dlq");
        var source = KafkaTestCluster.UniqueTopic("replay-source");
        await cluster.CreateTopicsAsync(2, dlq, source);
        return (dlq, source);
    }

    private List<ConsumeResult<byte[], byte[]>> ReadTopic(string topic) =>
        [.. new TopicSnapshotReader(cluster.BootstrapServers).Read(topic, CancellationToken.None)];

    private static string Header(ConsumeResult<byte[], byte[]> record, string key) =>
        Encoding.ASCII.GetString(record.Message.Headers.GetLastBytes(key));
}
