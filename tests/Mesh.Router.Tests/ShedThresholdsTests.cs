namespace Mesh.Router.Tests;

/// <summary>The shedding levels' hysteresis, and the settings that refuse to start when their order is wrong.</summary>
public sealed class ShedThresholdsTests
{
    private static readonly ShedThresholds s_thresholds = new(ShadowsEnter: 100, ShadowsExit: 20, ChallengersEnter: 500, ChallengersExit: 200);

    [Theory]
    // The lag rising past both thresholds enters shadows before challengers.
    [InlineData("None", 99, "None")]
    [InlineData("None", 100, "Shadows")]
    // One level per step, even when the lag is past both: shadows are always shed first.
    [InlineData("None", 10_000, "Shadows")]
    [InlineData("Shadows", 500, "Challengers")]
    // The lag between exit and enter keeps the level.
    [InlineData("Challengers", 200, "Challengers")]
    [InlineData("Challengers", 499, "Challengers")]
    [InlineData("Shadows", 20, "Shadows")]
    [InlineData("Shadows", 499, "Shadows")]
    // The lag falling under each exit restores challengers before shadows.
    [InlineData("Challengers", 199, "Shadows")]
    [InlineData("Challengers", 0, "Shadows")]
    [InlineData("Shadows", 19, "None")]
    public void Step_LevelAndLag_MovesAtMostOneLevelWithHysteresis(string level, long lag, string expected)
    {
        // Names, not the enum: ShedLevel is internal to the router.
        Assert.Equal(Enum.Parse<ShedLevel>(expected), s_thresholds.Step(Enum.Parse<ShedLevel>(level), lag));
    }

    [Fact]
    public void Validate_SheddingThresholdsOutOfOrder_ErrorsNameTheSettings()
    {
        var options = new RouterOptions
        {
            ExperimentFile = "experiments.yaml",
            Shedding = new SheddingOptions { Enabled = true, ShadowsEnterLag = 100, ShadowsExitLag = 100, ChallengersEnterLag = 50, ChallengersExitLag = 80 },
        };

        var result = new RouterOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Router:Shedding:ShadowsExitLag (100) must be less than Router:Shedding:ShadowsEnterLag", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Router:Shedding:ChallengersExitLag (80) must be less than Router:Shedding:ChallengersEnterLag", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Router:Shedding:ChallengersEnterLag (50) must be greater than Router:Shedding:ShadowsEnterLag", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadDeduplicationWindow_ErrorsNameTheSettings()
    {
        var options = new RouterOptions
        {
            ExperimentFile = "experiments.yaml",
            Deduplication = new DeduplicationOptions { MaxRequestIds = 0, MaxAgeMinutes = -1 },
            Shedding = new SheddingOptions { ShadowsEnterLag = 0 },
        };

        var result = new RouterOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        foreach (var setting in new[] { "Router:Deduplication:MaxRequestIds", "Router:Deduplication:MaxAgeMinutes", "Router:Shedding:ShadowsEnterLag" })
        {
            Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_DefaultSettings_Pass()
    {
        var result = new RouterOptionsValidator().Validate(null, new RouterOptions { ExperimentFile = "experiments.yaml" });

        Assert.True(result.Succeeded, result.FailureMessage);
    }
}
