namespace Mesh.Router.Tests;

/// <summary>
/// An arm's <c>postProcess:</c>: validated with the spec (errors name the field), checked against the arm's classes
/// when it starts, and applied to each row as the Prediction is written: threshold, then top-k, then label mapping.
/// </summary>
public sealed class PostProcessTests
{
    private static readonly string[] s_classes = ["setosa", "versicolor", "virginica"];

    private static readonly OutputContract s_contract = OutputContract.Resolve(
        new ModelMetadataResponse
        {
            Outputs =
            {
                new ModelMetadataResponse.Types.TensorMetadata { Name = "label", Datatype = "BYTES", Shape = { -1 } },
                new ModelMetadataResponse.Types.TensorMetadata { Name = "probabilities", Datatype = "FP32", Shape = { -1, 3 } },
            },
        },
        null,
        null,
        s_classes);

    // Row 0: virginica 0.6 (below 0.7) with versicolor 0.3 the best other; row 1: virginica 0.8; row 2: setosa best.
    private static readonly InferenceOutput s_output = new(
        ["virginica", "virginica", "setosa"],
        [0.1f, 0.3f, 0.6f, 0.05f, 0.15f, 0.8f, 0.7f, 0.2f, 0.1f],
        3,
        s_classes,
        "iris",
        "1");

    private static string Spec(string postProcess, string strategy = "ab") => $"""
        experiments:
          - name: iris
            strategy: {strategy}
            arms:
              - name: a
                weight: 1
                endpoint: http://127.0.0.1:8081
                model: iris
              - name: b
                weight: 1
                endpoint: http://127.0.0.1:8081
                model: iris
                postProcess: {postProcess}
        """;

    [Fact]
    public void Parse_PostProcess_ReadOntoTheArm()
    {
        var result = ExperimentSpecLoader.Parse(Spec("{threshold: {class: virginica, score: 0.7, otherwise: other}, topK: 2, labels: {setosa: S}}"), "spec.yaml");

        Assert.Empty(result.Errors);
        var post = result.Spec!.Experiments[0].Arms[1].PostProcess!;
        Assert.Equal(("virginica", 0.7, "other"), (post.Threshold!.Class, post.Threshold.Score, post.Threshold.Otherwise));
        Assert.Equal(2, post.TopK);
        Assert.Equal("S", post.Labels!["setosa"]);
    }

    [Theory]
    [InlineData("{threshold: {class: virginica, score: 1.5}}", "experiments[0].arms[1].postProcess.threshold.score: must be a number between 0 and 1 (was 1.5)")]
    [InlineData("{threshold: {class: virginica}}", "experiments[0].arms[1].postProcess.threshold.score: must be a number between 0 and 1 (was missing)")]
    [InlineData("{threshold: {score: 0.5}}", "experiments[0].arms[1].postProcess.threshold.class: is required")]
    [InlineData("{threshold: {class: a, score: 0.5, otherwise: a}}", "experiments[0].arms[1].postProcess.threshold.otherwise: must be a label other than threshold.class")]
    [InlineData("{topK: 0}", "experiments[0].arms[1].postProcess.topK: must be 1 or more (was 0)")]
    [InlineData("{labels: {setosa: X, virginica: X}}", "experiments[0].arms[1].postProcess.labels: maps setosa, virginica to the same name 'X'")]
    [InlineData("{}", "experiments[0].arms[1].postProcess: names none of threshold, topK, labels")]
    public void Parse_BadPostProcess_ErrorNamesTheField(string postProcess, string expected)
    {
        var result = ExperimentSpecLoader.Parse(Spec(postProcess), "spec.yaml");

        Assert.Null(result.Spec);
        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_PostProcessOnAnEnsembleArm_Refused()
    {
        var result = ExperimentSpecLoader.Parse(Spec("{topK: 1}", strategy: "ensemble"), "spec.yaml");

        Assert.Contains(result.Errors, e => e.Contains("experiments[0].arms[1].postProcess: an ensemble's arms are combined", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("medium", null, "postProcess.threshold.class 'medium' is not a class of the model (classes: setosa, versicolor, virginica)")]
    [InlineData(null, "medium", "postProcess.labels.medium: 'medium' is not a class of the model")]
    public void Create_ClassTheContractLacks_RefusedNamingIt(string? thresholdClass, string? mappedClass, string expected)
    {
        var definition = new PostProcessDefinition
        {
            Threshold = thresholdClass is null ? null : new ThresholdDefinition { Class = thresholdClass, Score = 0.5 },
            Labels = mappedClass is null ? null : new() { [mappedClass] = "M" },
        };

        var error = Assert.Throws<InvalidOperationException>(() => OutputPostProcessor.Create(definition, s_contract));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ThresholdOnAnArmWithoutScores_RefusedNamingWhatItReads()
    {
        var labelOnly = OutputContract.Resolve(
            new ModelMetadataResponse { Outputs = { new ModelMetadataResponse.Types.TensorMetadata { Name = "label", Datatype = "BYTES", Shape = { -1 } } } }, null, null, null);

        var error = Assert.Throws<InvalidOperationException>(() =>
            OutputPostProcessor.Create(new PostProcessDefinition { Threshold = new ThresholdDefinition { Class = "virginica", Score = 0.5 } }, labelOnly));

        Assert.Contains("postProcess.threshold needs the model's scores and class names; the arm reads label label, scores (none)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_ThresholdWithOtherwise_PositiveClassOnlyAtOrAboveTheScore()
    {
        var post = OutputPostProcessor.Create(new PostProcessDefinition { Threshold = new ThresholdDefinition { Class = "virginica", Score = 0.7, Otherwise = "not-virginica" } }, s_contract)!;

        Assert.Equal(["not-virginica", "virginica", "not-virginica"], Rows(post).Select(r => r.Label));
    }

    [Fact]
    public void Write_ThresholdWithoutOtherwise_BestOtherClassBelowTheScore()
    {
        var post = OutputPostProcessor.Create(new PostProcessDefinition { Threshold = new ThresholdDefinition { Class = "virginica", Score = 0.7 } }, s_contract)!;

        var rows = Rows(post);

        Assert.Equal(["versicolor", "virginica", "setosa"], rows.Select(r => r.Label));
        // Scores and class names are left whole without topK.
        Assert.All(rows, r => Assert.Equal(s_classes, r.ClassNames));
        Assert.Equal([0.1f, 0.3f, 0.6f], rows[0].Scores);
    }

    [Fact]
    public void Write_TopK_KeepsTheBestScoresBestFirstWithTheirClasses()
    {
        var post = OutputPostProcessor.Create(new PostProcessDefinition { TopK = 2 }, s_contract)!;

        var rows = Rows(post);

        Assert.Equal([(["virginica", "versicolor"], [0.6f, 0.3f]), (["virginica", "versicolor"], [0.8f, 0.15f]), (["setosa", "versicolor"], [0.7f, 0.2f])],
            rows.Select(r => (r.ClassNames.ToArray(), r.Scores.ToArray())));
        Assert.Equal(["virginica", "virginica", "setosa"], rows.Select(r => r.Label));
    }

    [Fact]
    public void Write_LabelsWithThresholdAndTopK_RenamesTheLabelAndTheClassNames()
    {
        var post = OutputPostProcessor.Create(
            new PostProcessDefinition
            {
                Threshold = new ThresholdDefinition { Class = "virginica", Score = 0.7 },
                TopK = 1,
                Labels = new() { ["virginica"] = "Iris virginica", ["versicolor"] = "Iris versicolor" },
            },
            s_contract)!;

        var rows = Rows(post);

        Assert.Equal(["Iris versicolor", "Iris virginica", "setosa"], rows.Select(r => r.Label));
        Assert.Equal([["Iris virginica"], ["Iris virginica"], ["setosa"]], rows.Select(r => r.ClassNames.ToArray()));
    }

    private static List<PredictionOutput> Rows(OutputPostProcessor post) =>
        [.. Enumerable.Range(0, s_output.Rows).Select(row =>
        {
            var target = new PredictionOutput();
            post.Write(target, s_output, row);
            return target;
        })];
}
