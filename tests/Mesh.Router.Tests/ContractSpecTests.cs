using Mesh.Router.Experiments;

namespace Mesh.Router.Tests;

/// <summary>The experiment spec's contract keys: an arm's <c>outputs:</c> and <c>classes:</c>.</summary>
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
}
