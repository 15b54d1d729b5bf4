namespace Mesh.Router.Tests;

public sealed class ExperimentSpecTests
{
    [Fact]
    public void Parse_ContractExample_ReadsEveryField()
    {
        var result = ExperimentSpecLoader.Parse(ChaosStack.DemoExperiment(8081), "spec.yaml");

        Assert.Empty(result.Errors);
        var experiment = Assert.Single(result.Spec!.Experiments);
        Assert.Equal(("iris-ab", "ab"), (experiment.Name, experiment.Strategy));
        Assert.Collection(experiment.Arms,
            arm => Assert.Equal(("logreg", 50.0, "http://127.0.0.1:8081", "iris-logreg", "1"), (arm.Name, arm.Weight, arm.Endpoint, arm.Model, arm.Version)),
            arm => Assert.Equal(("boosted", 50.0, "iris-boosted"), (arm.Name, arm.Weight, arm.Model)));
    }

    private static string Spec(
        string strategy = "ab",
        string weight0 = "50",
        string weight1 = "50",
        string endpoint0 = "http://127.0.0.1:8081",
        string name1 = "boosted",
        string model0 = "iris-logreg") => $"""
        experiments:
          - name: iris-ab
            strategy: {strategy}
            arms:
              - name: logreg
                weight: {weight0}
                endpoint: {endpoint0}
                model: {model0}
                version: "1"
              - name: {name1}
                weight: {weight1}
                endpoint: http://127.0.0.1:8081
                model: iris-boosted
                version: "1"
        """;

    private const string FullSpec = """
        experiments:
          - name: iris-bandit
            strategy: bandit
            bandit:
              algorithm: epsilon-greedy
              epsilon: 0.2
            fallback: logreg
            topics:
              input: custom.features
              predictions: custom.predictions
            rateLimit:
              recordsPerSecond: 500
              burst: 50
            arms:
              - name: logreg
                endpoint: http://127.0.0.1:8081
                model: iris-logreg
                version: "1"
              - name: boosted
                endpoint: http://127.0.0.1:8081
                model: iris-boosted
                timeoutMs: 250
            shadows:
              - name: candidate
                endpoint: http://127.0.0.1:8082
                model: iris-candidate
          - name: iris-ensemble
            strategy: ensemble
            ensemble:
              combine: weighted-mean
            arms:
              - name: logreg
                weight: 2
                endpoint: http://127.0.0.1:8081
                model: iris-logreg
              - name: boosted
                weight: 1
                endpoint: http://127.0.0.1:8081
                model: iris-boosted
        """;

    [Fact]
    public void Parse_EveryOptionalKey_ReadsThem()
    {
        var result = ExperimentSpecLoader.Parse(FullSpec, "spec.yaml");

        Assert.Empty(result.Errors);
        var bandit = result.Spec!.Experiments[0];
        Assert.Equal(("epsilon-greedy", 0.2), (bandit.Bandit!.Algorithm, bandit.Bandit.Epsilon));
        Assert.Equal(("logreg", "custom.features", "custom.predictions", (string?)null), (bandit.Fallback, bandit.Topics!.Input, bandit.Topics.Predictions, bandit.Topics.ShadowPredictions));
        Assert.Equal((500.0, 50.0), (bandit.RateLimit!.RecordsPerSecond, bandit.RateLimit.Burst));
        Assert.Equal(250, bandit.Arms[1].TimeoutMs);
        Assert.Equal(("candidate", "iris-candidate"), (bandit.Shadows.Single().Name, bandit.Shadows.Single().Model));
        Assert.Equal("weighted-mean", result.Spec.Experiments[1].Ensemble!.Combine);
    }

    public static TheoryData<string, string> BadOptionalKeys => new()
    {
        { FullSpec.Replace("fallback: logreg", "fallback: nobody", StringComparison.Ordinal), "experiments[0].fallback" },
        { FullSpec.Replace("algorithm: epsilon-greedy", "algorithm: ucb", StringComparison.Ordinal), "experiments[0].bandit.algorithm" },
        { FullSpec.Replace("epsilon: 0.2", "epsilon: 1.5", StringComparison.Ordinal), "experiments[0].bandit.epsilon" },
        { FullSpec.Replace("recordsPerSecond: 500", "recordsPerSecond: 0", StringComparison.Ordinal), "experiments[0].rateLimit.recordsPerSecond" },
        { FullSpec.Replace("timeoutMs: 250", "timeoutMs: -1", StringComparison.Ordinal), "experiments[0].arms[1].timeoutMs" },
        { FullSpec.Replace("name: candidate", "name: logreg", StringComparison.Ordinal), "experiments[0].shadows[0].name" },
        { FullSpec.Replace("endpoint: http://127.0.0.1:8082", "endpoint: nowhere", StringComparison.Ordinal), "experiments[0].shadows[0].endpoint" },
        { FullSpec.Replace("combine: weighted-mean", "combine: median", StringComparison.Ordinal), "experiments[1].ensemble.combine" },
    };

    [Theory]
    [MemberData(nameof(BadOptionalKeys))]
    public void Parse_OneBadOptionalKey_ErrorNamesIt(string yaml, string field)
    {
        var result = ExperimentSpecLoader.Parse(yaml, "spec.yaml");

        Assert.Null(result.Spec);
        var error = Assert.Single(result.Errors);
        Assert.Contains(field, error, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadSpecs => new()
    {
        { Spec(weight1: "0"), "experiments[0].arms[1].weight" },
        { Spec(weight0: "-3"), "experiments[0].arms[0].weight" },
        { Spec(endpoint0: "127.0.0.1:8081"), "experiments[0].arms[0].endpoint" },
        { Spec(endpoint0: "ftp://host/x"), "experiments[0].arms[0].endpoint" },
        { Spec(strategy: "roulette"), "experiments[0].strategy" },
        { Spec(name1: "logreg"), "experiments[0].arms[1].name" },
        { Spec(model0: "\"\""), "experiments[0].arms[0].model" },
    };

    [Fact]
    public void Spec_Defaults_IsValid() => Assert.Empty(ExperimentSpecLoader.Parse(Spec(), "spec.yaml").Errors);

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void Parse_OneBadField_ErrorNamesTheField(string yaml, string field)
    {
        var result = ExperimentSpecLoader.Parse(yaml, "spec.yaml");

        Assert.Null(result.Spec);
        var error = Assert.Single(result.Errors);
        Assert.Contains(field, error, StringComparison.Ordinal);
        Assert.Contains("Router:ExperimentFile", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoArms_ErrorNamesArms()
    {
        var result = ExperimentSpecLoader.Parse("experiments:\n  - name: x\n    strategy: ab\n    arms: []\n", "spec.yaml");

        Assert.Contains(result.Errors, e => e.Contains("experiments[0].arms: at least one arm", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_NoExperiments_ErrorNamesExperiments()
    {
        var result = ExperimentSpecLoader.Parse("experiments: []\n", "spec.yaml");

        Assert.Contains(result.Errors, e => e.Contains("experiments: at least one experiment", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_OutcomesBlockTheMetricsSinkReads_LoadsAndLeavesTheArmsAsTheyWere()
    {
        var yaml = Spec() + "\n" + """
                outcomes:
                  - {name: revenue, aggregate: mean, rewardScale: 100}
                  - {name: clicked, aggregate: rate}
                reward: clicked
                verdict: revenue
                verdictEffectSize: 2.5
            """;

        var result = ExperimentSpecLoader.Parse(yaml, "spec.yaml");

        Assert.Empty(result.Errors);
        var experiment = Assert.Single(result.Spec!.Experiments);
        Assert.Equal(["revenue", "clicked"], experiment.Outcomes!.Select(o => o.Name));
        Assert.Equal(("clicked", "revenue"), (experiment.Reward, experiment.Verdict));
        Assert.Equal(["logreg", "boosted"], experiment.Arms.Select(a => a.Name));
    }

    [Fact]
    public void Parse_UnknownKey_ErrorGivesTheLine()
    {
        var result = ExperimentSpecLoader.Parse("experiments:\n  - name: x\n    stratgy: ab\n", "spec.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("line 3", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_ErrorNamesTheSettingAndPath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.yaml");

        var result = ExperimentSpecLoader.Load(path);

        var error = Assert.Single(result.Errors);
        Assert.Contains("Router:ExperimentFile", error, StringComparison.Ordinal);
        Assert.Contains(path, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadBatching_ErrorsNameTheSettings()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, ChaosStack.DemoExperiment(8081));
        try
        {
            var options = new RouterOptions { ExperimentFile = path, Batching = new BatchingOptions { MaxBatchSize = 0, MaxInFlightBatches = 0, MaxDelayMs = 0 } };

            var result = new RouterOptionsValidator().Validate(null, options);

            Assert.True(result.Failed);
            Assert.Contains("Router:Batching:MaxBatchSize", result.FailureMessage, StringComparison.Ordinal);
            Assert.Contains("Router:Batching:MaxInFlightBatches", result.FailureMessage, StringComparison.Ordinal);
            Assert.Contains("Router:Batching:MaxDelayMs", result.FailureMessage, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Validate_BadNestedSettings_ErrorsNameTheSettings()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, ChaosStack.DemoExperiment(8081));
        try
        {
            var options = new RouterOptions
            {
                ExperimentFile = path,
                Shadow = new ShadowOptions { MaxInFlightBatches = 0 },
                CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 0 },
                Bandit = new BanditOptions { RefreshMs = 1, Redis = "127.0.0.1:6379,unknownOption=1" },
                Admin = new AdminOptions { Token = "short", GrpcUrl = "not a url" },
            };

            var result = new RouterOptionsValidator().Validate(null, options);

            Assert.True(result.Failed);
            foreach (var setting in new[] { "Router:Shadow:MaxInFlightBatches", "Router:CircuitBreaker:FailureThreshold", "Router:Bandit:RefreshMs", "Router:Bandit:Redis", "Router:Admin:Token", "Router:Admin:GrpcUrl" })
            {
                Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task StartAsync_ExperimentFileMissing_RefusesToStartNamingTheSetting()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.yaml");
        await using var app = RouterApp.Create([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["Router:ExperimentFile"] = missing,
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Router:ExperimentFile", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_BadSettingAndBadSpec_RefusesToStartNamingBoth()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "experiments:\n  - name: x\n    stratgy: ab\n");
        try
        {
            await using var app = RouterApp.Create([], new Dictionary<string, string?>
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["Kafka:BootstrapServers"] = "127.0.0.1:1",
                ["Router:ExperimentFile"] = path,
                ["Router:Batching:MaxBatchSize"] = "0",
            });

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

            Assert.Contains("Router:Batching:MaxBatchSize", error.Message, StringComparison.Ordinal);
            Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
