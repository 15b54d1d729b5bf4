namespace Mesh.MetricsSink.Tests;

/// <summary>Bandit rewards in the hash the router's bandits read, against a real redis-server the test starts.</summary>
public sealed class BanditRewardWriterTests : BanditHashTests
{
    [Fact]
    public async Task WriteAsync_TwoWrites_AddsTrialsAndSuccessesInTheRoutersFormatOnce()
    {
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 1000);
        var writer = Writer(joiner, new MetricsSinkOptions { BanditKeyPrefix = "test:bandit:" });
        for (var i = 0; i < 10; i++)
        {
            joiner.AddPrediction(Make.Prediction($"a{i}", arm: "logreg", predicted: i < 7 ? "setosa" : "virginica"));
            joiner.AddPrediction(Make.Prediction($"a{i}", arm: "candidate", shadow: true));
            joiner.AddLabel(Make.Label($"a{i}", "setosa"));
        }

        // A label still missing is no trial yet.
        joiner.AddPrediction(Make.Prediction("pending", arm: "boosted"));

        Assert.True(await writer.WriteAsync(CancellationToken.None));
        joiner.AddPrediction(Make.Prediction("b1", arm: "boosted", predicted: "setosa"));
        joiner.AddLabel(Make.Label("b1", "setosa"));
        Assert.True(await writer.WriteAsync(CancellationToken.None));
        Assert.True(await writer.WriteAsync(CancellationToken.None));

        var hash = await RouterFieldsAsync("test:bandit:iris-ab");
        Assert.Equal(new Dictionary<string, string>
        {
            ["logreg:n"] = "10",
            ["logreg:s"] = "7",
            ["boosted:n"] = "1",
            ["boosted:s"] = "1",
        }, hash);
    }

    [Fact]
    public async Task StartAsync_CountsRestoredFromAnEarlierProcess_WritesOnlyWhatThisProcessJoined()
    {
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 1000);
        // What the durable join state reads back at start: 40 trials, 30 successes, written by the earlier process.
        joiner.Restore([("a\u001firis-ab\u001flogreg\u001f0\u001fj", "40"), ("a\u001firis-ab\u001flogreg\u001f0\u001fc", "30")]);
        var writer = Writer(joiner, new MetricsSinkOptions { BanditKeyPrefix = "test:restored:", FlushIntervalMs = 600_000 });
        await writer.StartAsync(CancellationToken.None);
        joiner.AddPrediction(Make.Prediction("r1", arm: "logreg", predicted: "setosa"));
        joiner.AddLabel(Make.Label("r1", "setosa"));
        Assert.True(await writer.WriteAsync(CancellationToken.None));
        await writer.StopAsync(CancellationToken.None);

        var hash = await RouterFieldsAsync("test:restored:iris-ab");
        Assert.Equal(new Dictionary<string, string> { ["logreg:n"] = "1", ["logreg:s"] = "1" }, hash);
    }

    [Fact]
    public async Task WriteAsync_FallbackAnsweredForAnArm_RewardsTheFallbackArm()
    {
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 1000);
        var writer = Writer(joiner, new MetricsSinkOptions { BanditKeyPrefix = "test:fallback:" });
        joiner.AddPrediction(Make.Prediction("c0", arm: "logreg", predicted: "setosa"));
        joiner.AddLabel(Make.Label("c0", "setosa"));
        joiner.AddPrediction(Make.Prediction("b0", arm: "boosted", predicted: "virginica"));
        joiner.AddLabel(Make.Label("b0", "setosa"));
        var answered = Make.Prediction("b1", arm: "boosted", predicted: "setosa", fallback: true);
        answered.ModelName = "iris-logreg";
        joiner.AddPrediction(answered);
        joiner.AddLabel(Make.Label("b1", "setosa"));

        Assert.True(await writer.WriteAsync(CancellationToken.None));

        var hash = await RouterFieldsAsync("test:fallback:iris-ab");
        Assert.Equal(new Dictionary<string, string> { ["logreg:n"] = "2", ["logreg:s"] = "2", ["boosted:n"] = "1", ["boosted:s"] = "0" }, hash);
    }

    [Fact]
    public async Task WriteAsync_AnswerLostAfterRedisRanTheWrite_CountsAreAddedOnce()
    {
        const int Sigcont = 18;
        const int Sigstop = 19;
        var configuration = ConfigurationOptions.Parse(Redis.Configuration);
        configuration.AsyncTimeout = 500;
        await using var impatient = await ConnectionMultiplexer.ConnectAsync(configuration);
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 1000);
        var writer = Writer(joiner, new MetricsSinkOptions { BanditKeyPrefix = "test:lost:" }, connection: impatient);
        for (var i = 0; i < 10; i++)
        {
            joiner.AddPrediction(Make.Prediction($"l{i}", arm: "logreg", predicted: i < 7 ? "setosa" : "virginica"));
            joiner.AddLabel(Make.Label($"l{i}", "setosa"));
        }

        // Redis stops answering: the write is sent, the writer gives up waiting, and Redis runs it once it is let go.
        Assert.Equal(0, Mesh.Cli.Processes.ServiceProcess.Signal(Redis.ProcessId, Sigstop));
        try
        {
            Assert.False(await writer.WriteAsync(CancellationToken.None));
        }
        finally
        {
            Assert.Equal(0, Mesh.Cli.Processes.ServiceProcess.Signal(Redis.ProcessId, Sigcont));
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await RouterFieldsAsync("test:lost:iris-ab")).GetValueOrDefault("logreg:n") != "10" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal("10", (await RouterFieldsAsync("test:lost:iris-ab")).GetValueOrDefault("logreg:n"));

        // The writer sends that write again, then what was joined since: neither is added twice.
        joiner.AddPrediction(Make.Prediction("l10", arm: "logreg", predicted: "setosa"));
        joiner.AddLabel(Make.Label("l10", "setosa"));
        Assert.True(await writer.WriteAsync(CancellationToken.None));
        Assert.True(await writer.WriteAsync(CancellationToken.None));

        Assert.Equal(new Dictionary<string, string> { ["logreg:n"] = "11", ["logreg:s"] = "8" }, await RouterFieldsAsync("test:lost:iris-ab"));
        var markers = (await Connection.GetDatabase().HashKeysAsync("test:lost:iris-ab")).Count(k => k.ToString().StartsWith(BanditRewardWriter.WriteMarkerPrefix, StringComparison.Ordinal));
        Assert.Equal(1, markers);
    }

    // The fields the router's bandits read; the writer's one marker of its last write is left out.
    private async Task<Dictionary<string, string>> RouterFieldsAsync(string key) =>
        (await HashAsync(key)).Where(e => !e.Key.StartsWith(BanditRewardWriter.WriteMarkerPrefix, StringComparison.Ordinal))
            .ToDictionary(e => e.Key, e => e.Value);
}
