namespace Mesh.Cli.Tests;

public sealed class DeadLetterListCommandTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Run_MixedDeadLetters_GroupsByReasonServiceExperimentAndArmWithCounts()
    {
        var topic = await cluster.CreateFreshTopicAsync(2, "dlq");
        DeadLetterTraffic.Produce(cluster.BootstrapServers, topic,
        [
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r1"), "features", "ModelHostUnavailable", "deadline exceeded"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r2"), "features", "ModelHostUnavailable", "deadline exceeded"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r3"), "features", "ModelHostUnavailable", "deadline exceeded", arm: "boosted"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r4"), "features", "ModelHostUnavailable", "deadline exceeded"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r5"), "predictions", "BadRecord", "no label", service: "consumer", experiment: "", arm: ""),
        ]);

        var root = RunJson(new DeadLetterListSettings(cluster.BootstrapServers, topic, DeadLetterFilter.All, Json: true));

        Assert.Equal(5, root.GetProperty("total").GetInt32());
        var groups = root.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(3, groups.Count);
        Assert.Equal(3, groups[0].GetProperty("count").GetInt32());
        Assert.Equal("logreg", groups[0].GetProperty("arm").GetString());
        Assert.Equal("ModelHostUnavailable", groups[0].GetProperty("error_class").GetString());
        Assert.Equal("r1", groups[0].GetProperty("sample").GetProperty("request_id").GetString());
        Assert.Equal(0, groups[0].GetProperty("sample").GetProperty("offset").GetInt64());
        Assert.Equal([1, 1], groups.Skip(1).Select(g => g.GetProperty("count").GetInt32()));
        Assert.Contains(groups, g => g.GetProperty("service").GetString() == "consumer" && g.GetProperty("error_message").GetString() == "no label");
    }

    [Fact]
    public async Task Run_SinceAndReason_CountsOnlyMatchingDeadLetters()
    {
        var topic = await cluster.CreateFreshTopicAsync(1, "dlq");
        var old = DateTime.UtcNow.AddDays(-3);
        DeadLetterTraffic.Produce(cluster.BootstrapServers, topic,
        [
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("old"), "features", "BadRecord", "NaN in values", time: old),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("new1"), "features", "BadRecord", "NaN in values"),
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("new2"), "features", "Timeout", "model host"),
        ]);
        var filter = new DeadLetterFilter(Since: DateTime.UtcNow.AddDays(-1), Reason: "nan");

        var root = RunJson(new DeadLetterListSettings(cluster.BootstrapServers, topic, filter, Json: true));

        var group = Assert.Single(root.GetProperty("groups").EnumerateArray());
        Assert.Equal(1, group.GetProperty("count").GetInt32());
        Assert.Equal("new1", group.GetProperty("sample").GetProperty("request_id").GetString());
    }

    [Fact]
    public async Task Run_Table_ShowsCountReasonAndSample()
    {
        var topic = await cluster.CreateFreshTopicAsync(1, "dlq");
        DeadLetterTraffic.Produce(cluster.BootstrapServers, topic,
            [DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("t1"), "mesh.features.v1", "BadRecord", "4 values expected")]);
        var output = new StringWriter();

        var exit = DeadLetterListCommand.Run(new DeadLetterListSettings(cluster.BootstrapServers, topic, DeadLetterFilter.All, Json: false), output, CancellationToken.None);

        Assert.Equal(0, exit);
        var text = output.ToString();
        Assert.Contains("1 dead letter(s) in 1 group(s)", text, StringComparison.Ordinal);
        Assert.Contains("BadRecord: 4 values expected", text, StringComparison.Ordinal);
        Assert.Contains("\"requestId\":\"t1\"", text.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EmptyTopic_ReportsNothingAndStops()
    {
        var topic = KafkaTestCluster.UniqueTopic("dlq");
        var root = RunJson(new DeadLetterListSettings(cluster.BootstrapServers, topic, DeadLetterFilter.All, Json: true));

        Assert.Equal(0, root.GetProperty("total").GetInt32());
        Assert.Empty(root.GetProperty("groups").EnumerateArray());
    }

    private static JsonElement RunJson(DeadLetterListSettings settings)
    {
        var output = new StringWriter();
        Assert.Equal(0, DeadLetterListCommand.Run(settings, output, CancellationToken.None));
        return JsonDocument.Parse(output.ToString()).RootElement.Clone();
    }
}
