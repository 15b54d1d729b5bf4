namespace Mesh.MetricsSink.Tests;

/// <summary>The verdict on a declared outcome (<c>verdict: revenue</c>): the same always-valid test, on the outcome's means.</summary>
public sealed class OutcomeVerdictTests : IAsyncLifetime
{
    private readonly List<TrackingWriter> _writers = [];
    private readonly SinkTestBench _bench = new("mesh-sink-verdict-");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // The writers write runs in the background: they finish before their folder goes.
        foreach (var writer in _writers)
        {
            await writer.CompleteAsync(TimeSpan.FromMinutes(1));
        }

        _bench.Dispose();
    }

    [Fact]
    public void CloseWindow_MoreAccurateArmEarnsLessRevenue_WinnerIsTheArmWithTheHigherDeclaredOutcome()
    {
        var spec = Outcomes.Spec;
        var verdict = Verdict(spec);

        Assert.Equal(("winner", "logreg", "revenue"), (verdict.State, verdict.Winner, verdict.Outcome));
        Assert.Equal(10.0, verdict.Difference, 6);
        Assert.StartsWith("winner logreg: revenue mean 20, 10 more revenue against boosted", verdict.Text, StringComparison.Ordinal);
        // Without the declaration the same traffic is judged on accuracy, and names the other arm.
        var byAccuracy = Verdict(spec.Replace("verdict: revenue", "", StringComparison.Ordinal));
        Assert.Equal(("winner", "boosted", null), (byAccuracy.State, byAccuracy.Winner, byAccuracy.Outcome));
    }

    // boosted is right on every label, logreg on half; logreg's revenue averages 20, boosted's 10 (both spread ±4).
    private ExperimentVerdict Verdict(string spec)
    {
        var joiner = Outcomes.Joiner(_bench.Time, spec);
        var closer = Closer(joiner, Outcomes.Catalog(spec));
        for (var i = 0; i < 300; i++)
        {
            joiner.AddPrediction(Make.Prediction($"l{i}", arm: "logreg", experiment: "shop", predicted: i % 2 == 0 ? "setosa" : "virginica"));
            joiner.AddLabel(Outcomes.Label($"l{i}", ("revenue", 20 + (((i % 3) - 1) * 4))));
            joiner.AddPrediction(Make.Prediction($"b{i}", arm: "boosted", experiment: "shop"));
            joiner.AddLabel(Outcomes.Label($"b{i}", ("revenue", 10 + (((i % 3) - 1) * 4))));
        }

        return closer.CloseWindow()["shop"];
    }

    [Fact]
    public void CloseWindow_EqualRevenueOnBothArms_NoWinnerHoweverOftenItLooks()
    {
        var joiner = Outcomes.Joiner(_bench.Time);
        var closer = Closer(joiner, Outcomes.Catalog());
        ExperimentVerdict? verdict = null;
        for (var look = 0; look < 20; look++)
        {
            for (var i = 0; i < 50; i++)
            {
                var n = (look * 50) + i;
                joiner.AddPrediction(Make.Prediction($"l{n}", arm: "logreg", experiment: "shop"));
                joiner.AddLabel(Outcomes.Label($"l{n}", ("revenue", 15 + (((n % 5) - 2) * 3))));
                joiner.AddPrediction(Make.Prediction($"b{n}", arm: "boosted", experiment: "shop"));
                joiner.AddLabel(Outcomes.Label($"b{n}", ("revenue", 15 + ((((n + 2) % 5) - 2) * 3))));
            }

            _bench.Time.Advance(TimeSpan.FromSeconds(60));
            verdict = closer.CloseWindow()["shop"];
        }

        Assert.Equal(("no difference yet", null, "revenue"), (verdict!.State, verdict.Winner, verdict.Outcome));
    }

    [Fact]
    public void CloseWindow_TooFewLabelsCarryTheOutcome_StillCollecting()
    {
        var joiner = Outcomes.Joiner(_bench.Time);
        var closer = Closer(joiner, Outcomes.Catalog());
        // 300 labels per arm, but only 50 carry revenue: the minimum sample counts those.
        for (var i = 0; i < 300; i++)
        {
            joiner.AddPrediction(Make.Prediction($"l{i}", arm: "logreg", experiment: "shop"));
            joiner.AddLabel(i < 50 ? Outcomes.Label($"l{i}", ("revenue", 100)) : Outcomes.Label($"l{i}"));
            joiner.AddPrediction(Make.Prediction($"b{i}", arm: "boosted", experiment: "shop"));
            joiner.AddLabel(i < 50 ? Outcomes.Label($"b{i}", ("revenue", 1)) : Outcomes.Label($"b{i}"));
        }

        var verdict = closer.CloseWindow()["shop"];

        Assert.Equal("collecting", verdict.State);
        Assert.Contains("50 of 100", verdict.Text, StringComparison.Ordinal);
    }

    private WindowCloser Closer(PredictionLabelJoiner joiner, OutcomeCatalog catalog)
    {
        var writer = new TrackingWriter(new LocalTrackingStore(_bench.Folder, _bench.Time));
        _writers.Add(writer);
        return new(joiner, writer, new SequentialAccuracyTest(0.05, 0.05, 100),
            new MetricsSinkTelemetry(_bench.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            Microsoft.Extensions.Options.Options.Create(new MetricsSinkOptions { WindowSeconds = 60 }), _bench.Time, NullLogger<WindowCloser>.Instance,
            outcomes: catalog);
    }
}
