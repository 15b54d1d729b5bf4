namespace Mesh.Router.Tests;

/// <summary>The experiment spec's contract keys: an arm's <c>outputs:</c> and <c>classes:</c>, an experiment's <c>features:</c> and <c>featureSet:</c>.</summary>
public sealed class ContractSpecTests
{
    private static string Spec(string armKeys) => $"""
        experiments:
          - name: iris
            strategy: ab
            arms:
              - name: sklearn
                weight: 1
                endpoint: http://127.0.0.1:8081
                model: iris-sklearn
        {armKeys}
        """;

    [Fact]
    public void Parse_OutputsAndClasses_ReadOntoTheArm()
    {
        var result = ExperimentSpecLoader.Parse(Spec("""
                    outputs: {label: output_label, scores: output_probability}
                    classes: [setosa, versicolor, virginica]
            """), "spec.yaml");

        Assert.Empty(result.Errors);
        var arm = Assert.Single(Assert.Single(result.Spec!.Experiments).Arms);
        Assert.Equal(("output_label", "output_probability"), (arm.Outputs!.Label, arm.Outputs.Scores));
        Assert.Equal(["setosa", "versicolor", "virginica"], arm.Classes);
    }

    [Theory]
    [InlineData("        outputs: {}", "arms[0].outputs: names neither a label nor a scores output")]
    [InlineData("        outputs: {label: ''}", "arms[0].outputs.label: an output name, when given, must not be empty")]
    [InlineData("        classes: [a, b, a]", "arms[0].classes[2]: 'a' is listed twice")]
    [InlineData("        classes: []", "arms[0].classes: lists no class name")]
    public void Parse_BadContractKey_ErrorNamesTheField(string armKeys, string expected)
    {
        var result = ExperimentSpecLoader.Parse(Spec(armKeys), "spec.yaml");

        Assert.Null(result.Spec);
        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("features: [a, b, a]", "experiments[0].features[2]: 'a' is listed twice")]
    [InlineData("features: ['']", "experiments[0].features[0]: a feature name must not be empty")]
    [InlineData("featureSet: ' '", "experiments[0].featureSet: a feature set name, when given, must not be empty")]
    public void Parse_BadFeatureContract_ErrorNamesTheField(string experimentKeys, string expected)
    {
        var result = ExperimentSpecLoader.Parse($"""
            experiments:
              - name: iris
                strategy: ab
                {experimentKeys}
                arms:
                  - name: sklearn
                    weight: 1
                    endpoint: http://127.0.0.1:8081
                    model: iris-sklearn
            """, "spec.yaml");

        Assert.Null(result.Spec);
        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_FeaturesAndFeatureSet_ReadOntoTheExperiment()
    {
        var result = ExperimentSpecLoader.Parse("""
            experiments:
              - name: iris
                strategy: ab
                features: [sepal_length, sepal_width, petal_length, petal_width]
                featureSet: iris
                arms:
                  - name: sklearn
                    weight: 1
                    endpoint: http://127.0.0.1:8081
                    model: iris-sklearn
            """, "spec.yaml");

        var experiment = Assert.Single(result.Spec!.Experiments);
        Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], experiment.Features!);
        Assert.Equal("iris", experiment.FeatureSet);
    }

    [Fact]
    public void Validate_UnknownNamesSettingNotKnown_ErrorNamesTheSetting()
    {
        var options = new RouterOptions { ExperimentFile = "unused.yaml", Features = new FeatureOptions { UnknownNames = "guess" } };

        var result = new RouterOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Router:Features:UnknownNames must be dead-letter or by-position", result.FailureMessage, StringComparison.Ordinal);
    }
}
