namespace Mesh.MetricsSink.Tests;

/// <summary>The <c>outcomes</c> block of the router's experiment YAML, as the sink reads it: declarations and refusals naming their path.</summary>
public sealed class OutcomeSpecReaderTests
{
    [Fact]
    public void Parse_DeclaredOutcomesRewardAndVerdict_CatalogNamesThem()
    {
        var catalog = OutcomeSpecReader.Parse(Outcomes.Spec, out var errors);

        Assert.Empty(errors);
        var declared = catalog!.For("shop");
        Assert.Equal([("revenue", OutcomeAggregate.Mean), ("clicked", OutcomeAggregate.Rate), ("cost", OutcomeAggregate.Sum)],
            declared.Declared.Select(d => (d.Name, d.Aggregate)));
        Assert.Equal("clicked", declared.Reward!.Name);
        Assert.Equal("revenue", declared.Verdict!.Name);
        Assert.Equal(2.5, declared.VerdictEffectSize);
        Assert.Equal(100, declared.Declared[0].RewardScale);
        // An experiment without the block (and one the file does not name) has no custom outcomes.
        Assert.Empty(catalog.For("plain").Declared);
        Assert.Null(catalog.For("unknown").Reward);
    }

    [Theory]
    [InlineData("- {name: revenue, aggregate: mean}\n      - {name: clicked, aggregate: median}", "", "experiments[0].outcomes[1].aggregate")]
    [InlineData("- {name: 'two words', aggregate: mean}", "", "experiments[0].outcomes[0].name")]
    [InlineData("- {name: revenue, aggregate: mean}\n      - {name: revenue, aggregate: sum}", "", "experiments[0].outcomes[1].name")]
    [InlineData("- {name: revenue, aggregate: mean, rewardScale: 0}", "", "experiments[0].outcomes[0].rewardScale")]
    [InlineData("- {name: revenue, aggregate: mean}", "reward: clicks", "experiments[0].reward")]
    [InlineData("- {name: revenue, aggregate: mean}", "verdict: profit", "experiments[0].verdict")]
    [InlineData("- {name: revenue, aggregate: mean}", "verdictEffectSize: -1", "experiments[0].verdictEffectSize")]
    public void Parse_BadDeclaration_RefusedNamingItsPath(string outcomes, string extra, string path)
    {
        var yaml = $"""
            experiments:
              - name: shop
                strategy: ab
                outcomes:
                  {outcomes}
                {extra}
            """;

        var catalog = OutcomeSpecReader.Parse(yaml, out var errors);

        Assert.Null(catalog);
        Assert.StartsWith(path + " ", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ExperimentFileWithABadAggregate_RefusesNamingTheSettingAndThePath()
    {
        var file = Path.Combine(Path.GetTempPath(), "sink-outcomes-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(file, Outcomes.Spec.Replace("aggregate: sum", "aggregate: total", StringComparison.Ordinal));
        try
        {
            await using var app = MetricsSinkApp.Create([], new Dictionary<string, string?>
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["Kafka:BootstrapServers"] = "127.0.0.1:1",
                ["MetricsSink:TrackingDir"] = Path.Combine(Path.GetTempPath(), "sink-outcomes-" + Guid.NewGuid().ToString("N")),
                ["MetricsSink:ExperimentFile"] = file,
            });

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

            var failure = Assert.Single(error.Failures);
            Assert.StartsWith("MetricsSink:ExperimentFile", failure, StringComparison.Ordinal);
            Assert.Contains("experiments[0].outcomes[2].aggregate must be mean, sum or rate (got 'total')", failure, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
