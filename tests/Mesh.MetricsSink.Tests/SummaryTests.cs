namespace Mesh.MetricsSink.Tests;

public sealed class SummaryTests
{
    [Fact]
    public void Serialize_Summary_HasTheContractPropertyNamesThenOnlyTheAddedOnes()
    {
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100);
        joiner.AddPrediction(Make.Prediction("r1"));
        joiner.AddLabel(Make.Label("r1"));

        using var json = JsonDocument.Parse(SummaryJson.Serialize(joiner.Snapshot()));

        var root = json.RootElement;
        Assert.Equal(
            ["updated", "predictions", "labels", "joined", "duplicatePredictions", "unmatchedLabels", "pendingPredictions", "pendingLabels", "experiments",
            "unattributedDeadLetters", "drift"],
            root.EnumerateObject().Select(p => p.Name));
        var experiment = root.GetProperty("experiments")[0];
        // The contract allows adding fields, never renaming or removing: the contracted ones come first, unchanged.
        Assert.Equal(["experiment", "arms", "verdict"], experiment.EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            ["arm", "model", "version", "shadow", "predictions", "joined", "correct", "accuracy", "latencyP50Ms", "latencyP99Ms", "fallbacks",
             "latencyP95Ms", "logLoss", "rmse", "mae", "fallbackRate", "shadowAgreement",
             "deadLetters", "deadLetterRate", "runUrl", "outcomes"],
            experiment.GetProperty("arms")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-11-27T14:00:00Z", root.GetProperty("updated").GetString());
        Assert.Equal("iris-ab", experiment.GetProperty("experiment").GetString());
        Assert.Equal(1.0, experiment.GetProperty("arms")[0].GetProperty("accuracy").GetDouble());
    }

    [Fact]
    public void Write_Summary_ReplacesTheFileAndLeavesReadmeAndNoTemporaryFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sink-" + Guid.NewGuid().ToString("N"));
        var writer = new SummaryFileWriter(dir);
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100);

        writer.Prepare();
        writer.Write(joiner.Snapshot());
        joiner.AddPrediction(Make.Prediction("r1"));
        writer.Write(joiner.Snapshot());

        Assert.Equal(["README.txt", "summary.json"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(1, SummaryJson.Deserialize(File.ReadAllText(writer.SummaryPath))!.Predictions);
        Assert.Contains("summary.json", File.ReadAllText(Path.Combine(dir, "README.txt")), StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Handle_RecordsByTopic_RoutesLabelsAndPredictionsAndRejectsGarbage()
    {
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100);
        var handler = new MetricsRecordHandler(joiner, "labels");

        var prediction = handler.Handle(Record("predictions", Make.Prediction("r1").ToByteArray()));
        var label = handler.Handle(Record("labels", Make.Label("r1").ToByteArray()));
        var garbage = handler.Handle(Record("labels", [0xFF, 0xFF, 0xFF]));

        Assert.True(prediction.Applied);
        Assert.False(prediction.IsLabel);
        Assert.True(label.Applied);
        Assert.True(label.IsLabel);
        Assert.Equal(JoinOutcome.Joined, label.Outcome);
        Assert.False(garbage.Applied);
        Assert.Contains("Label", garbage.Error, StringComparison.Ordinal);
        Assert.Equal(1, joiner.Snapshot().Joined);
    }

    private static ConsumeResult<byte[], byte[]> Record(string topic, byte[] value) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, 0, 0),
        Message = new Message<byte[], byte[]> { Key = [], Value = value },
    };
}
