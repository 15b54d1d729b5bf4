namespace Mesh.Cli.Tests;

public sealed class ReplaySenderTests
{
    [Fact]
    public void Send_NoBrokerAnswers_ReportsEveryRecordFailedWithTheReason()
    {
        // Port 9 (discard) has no listener here: every delivery report comes back with an error once its timeout passes.
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = "127.0.0.1:9",
            MessageTimeoutMs = 500,
            SocketConnectionSetupTimeoutMs = 1000,
        }).Build();
        var letters = new[] { "f1", "f2" }.Select((id, i) => new DeadLetterEntry("dlq", 0, i, DateTime.UtcNow,
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature(id), "mesh.features.v1", "Timeout", "x")));
        var plan = ReplayPlanner.Plan(letters, new ReplayRules(null, [], 3, null));

        var delivery = new ReplaySender(producer).Send(plan.Items, null, CancellationToken.None);

        Assert.Equal(0, delivery.Acknowledged);
        Assert.Equal(["f1", "f2"], delivery.Failures.Select(f => f.Item.RequestId).Order());
        Assert.All(delivery.Failures, f => Assert.False(string.IsNullOrEmpty(f.Reason)));
    }
}
