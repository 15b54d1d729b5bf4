namespace Mesh.Router.Tests;

/// <summary>
/// An arm's optional <c>modelUri</c>: validated as an MLflow model URI and carried on each of its Predictions, so the
/// metrics sink promotes on the registered model the host loads rather than on the served name.
/// </summary>
public sealed class ArmModelUriTests
{
    /// <summary>The demo A/B test (logreg and boosted, 50/50) with <paramref name="uri"/> as its logreg arm's <c>modelUri</c>.</summary>
    private static string SpecWithLogregModelUri(string uri) =>
        ChaosStack.DemoExperiment(8081).Replace("model: iris-logreg\n", $"model: iris-logreg\n        modelUri: {uri}\n", StringComparison.Ordinal);

    [Theory]
    [InlineData("models:/iris@champion")]
    [InlineData("models:/iris/3")]
    [InlineData("models:/iris/latest")]
    [InlineData("runs:/0a1b2c/model")]
    public void Parse_ArmWithAModelUri_ReadsIt(string uri)
    {
        var result = ExperimentSpecLoader.Parse(SpecWithLogregModelUri(uri), "spec.yaml");

        Assert.Empty(result.Errors);
        Assert.Equal(uri, result.Spec!.Experiments[0].Arms[0].ModelUri);
        Assert.Null(result.Spec.Experiments[0].Arms[1].ModelUri);
    }

    [Theory]
    [InlineData("s3://bucket/iris")]
    [InlineData("models:/iris")]
    public void Parse_ArmWithAModelUriThatIsNotOne_ErrorNamesTheKey(string uri)
    {
        var result = ExperimentSpecLoader.Parse(SpecWithLogregModelUri(uri), "spec.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("experiments[0].arms[0].modelUri", error, StringComparison.Ordinal);
        Assert.Contains(uri, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ArmWithAModelUri_PredictionCarriesIt()
    {
        var feature = new FeatureRecord { RequestId = "req-1", EntityId = "entity-1", Values = { 5.1f, 3.5f, 1.4f, 0.2f } };
        var now = DateTime.UtcNow;
        var source = new ConsumeResult<byte[], byte[]> { Topic = "features", Partition = 0, Offset = 1, Message = new Message<byte[], byte[]> { Key = [], Value = feature.ToByteArray() } };
        var record = new RoutedRecord(source, now, activity: null, default, inboundTraceParent: null) { Feature = feature, EventTime = now };
        var output = new InferenceOutput(["setosa"], [], 0, [], "iris-logreg", "4");

        var withUri = PredictionFactory.Create(record, new ArmIdentity("iris-ab", "logreg", "iris-logreg", "1", "http://127.0.0.1:8081", "models:/iris@champion"), 0.5, "p", output, 0, 1, now);
        var without = PredictionFactory.Create(record, new ArmIdentity("iris-ab", "logreg", "iris-logreg", "1", "http://127.0.0.1:8081"), 0.5, "p", output, 0, 1, now);

        Assert.Equal(("models:/iris@champion", "iris-logreg", "4"), (withUri.ModelUri, withUri.ModelName, withUri.ModelVersion));
        Assert.Equal("", without.ModelUri);
    }
}
