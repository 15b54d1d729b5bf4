namespace Mesh.Router.Tests;

/// <summary>The shedding levels' hysteresis, and the settings that refuse to start when their order is wrong.</summary>
public sealed class ShedThresholdsTests
{
    private static readonly ShedThresholds s_thresholds = new(ShadowsEnter: 100, ShadowsExit: 20, ChallengersEnter: 500, ChallengersExit: 200);

    [Fact]
    public void Step_LagRisesPastBothThresholds_EntersShadowsBeforeChallengers()
    {
        Assert.Equal(ShedLevel.None, s_thresholds.Step(ShedLevel.None, 99));
        Assert.Equal(ShedLevel.Shadows, s_thresholds.Step(ShedLevel.None, 100));
        // One level per step, even when the lag is past both: shadows are always shed first.
        Assert.Equal(ShedLevel.Shadows, s_thresholds.Step(ShedLevel.None, 10_000));
        Assert.Equal(ShedLevel.Challengers, s_thresholds.Step(ShedLevel.Shadows, 500));
    }

    [Fact]
    public void Step_LagBetweenExitAndEnter_KeepsTheLevel()
    {
        Assert.Equal(ShedLevel.Challengers, s_thresholds.Step(ShedLevel.Challengers, 200));
        Assert.Equal(ShedLevel.Challengers, s_thresholds.Step(ShedLevel.Challengers, 499));
        Assert.Equal(ShedLevel.Shadows, s_thresholds.Step(ShedLevel.Shadows, 20));
        Assert.Equal(ShedLevel.Shadows, s_thresholds.Step(ShedLevel.Shadows, 499));
    }

    [Fact]
    public void Step_LagFallsUnderEachExit_RestoresChallengersBeforeShadows()
    {
        Assert.Equal(ShedLevel.Shadows, s_thresholds.Step(ShedLevel.Challengers, 199));
        Assert.Equal(ShedLevel.Shadows, s_thresholds.Step(ShedLevel.Challengers, 0));
        Assert.Equal(ShedLevel.None, s_thresholds.Step(ShedLevel.Shadows, 19));
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
