namespace Mesh.MetricsSink.Tests;

/// <summary>
/// Promotion of a winning challenger in the MLflow registry, against the stand-in answering as a real MLflow 3
/// server does (a missing alias is 400 INVALID_PARAMETER_VALUE); the runs are in the local tracking folder.
/// </summary>
public sealed class ModelPromoterTests : IAsyncLifetime
{
    private static readonly ExperimentVerdict s_winner = new("winner", "challenger", 0.001, 0.08, 12, 0.05, "winner challenger");

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mesh-promoter-" + Guid.NewGuid().ToString("N"));
    private readonly HttpClient _http = new();
    private FakeMlflowServer _mlflow = null!;
    private LocalTrackingStore _store = null!;
    private TrackingWriter _writer = null!;

    public async Task InitializeAsync()
    {
        _mlflow = await FakeMlflowServer.StartAsync();
        _mlflow.AddVersion("iris", "1", "run-1");
        _mlflow.AddVersion("iris", "2", "run-2");
        _store = new LocalTrackingStore(_folder);
        _writer = new TrackingWriter(_store);
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        _http.Dispose();
        await _mlflow.DisposeAsync();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task PromoteAsync_NoChampionYet_ServerAnswers400_PromotesTheFirstChampion()
    {
        var promoter = Promoter();

        Assert.True(await promoter.PromoteAsync(Request(), CancellationToken.None));

        Assert.Equal("2", _mlflow.Alias("iris", "champion"));
        Assert.Equal("", _mlflow.VersionTag("iris", "2", ChampionAlias.PromotedFromTag));
    }

    [Fact]
    public async Task PromoteAsync_ChallengerWins_MovesTheRegisteredModelsAliasOnceAndTagsTheVersionAndBothRuns()
    {
        _mlflow.SetAlias("iris", "champion", "1");
        var promoter = Promoter();
        var request = Request();

        Assert.True(await promoter.PromoteAsync(request, CancellationToken.None));
        Assert.False(await promoter.PromoteAsync(request, CancellationToken.None));
        await _writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        // The registered model 'iris', not the served names 'iris-challenger' / 'iris-champion'.
        Assert.Equal("2", _mlflow.Alias("iris", "champion"));
        Assert.Equal("1", _mlflow.VersionTag("iris", "2", ChampionAlias.PromotedFromTag));
        Assert.Equal("0.001", _mlflow.VersionTag("iris", "2", "mesh.promotion_p_value"));
        Assert.Equal("challenger 720/800, champion 640/800", _mlflow.VersionTag("iris", "2", "mesh.promotion_counts"));
        Assert.Contains("experiment iris-ab", _mlflow.VersionTag("iris", "2", ModelPromoter.AuditTag), StringComparison.Ordinal);
        var experiment = await _store.GetOrCreateExperimentAsync("iris-ab");
        var runs = (await _store.SearchRunsAsync([experiment], null, 10)).Runs;
        Assert.Equal(["challenger run", "champion run"], runs.Select(r => r.Info.RunName).Order(StringComparer.Ordinal));
        Assert.All(runs, r => Assert.Equal("iris v1", r.Tag(ChampionAlias.PromotedFromTag)));
        Assert.All(runs, r => Assert.Equal("iris v2 @champion", r.Tag("mesh.promoted_to")));
    }

    [Fact]
    public async Task PromoteAsync_ServedNamesDifferAndTheSpecNamesTheRegisteredModel_MovesTheRegisteredModelsAlias()
    {
        // No MetricsSink:ModelUris: the registered model comes from each arm's modelUri, carried by its Predictions.
        _mlflow.SetAlias("iris", "champion", "1");
        var names = new RegisteredModelNames(new PromotionOptions());
        var handler = new MetricsRecordHandler(new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100), "labels", modelNames: names);
        handler.Handle(PredictionRecord(Make.Prediction("r1", arm: "challenger"), "models:/iris@challenger"));
        handler.Handle(PredictionRecord(Make.Prediction("r2", arm: "champion"), "models:/iris@champion"));

        Assert.True(await Promoter(options: new PromotionOptions(), names: names).PromoteAsync(Request(), CancellationToken.None));

        Assert.Equal("2", _mlflow.Alias("iris", "champion"));
        Assert.Equal("1", _mlflow.VersionTag("iris", "2", ChampionAlias.PromotedFromTag));
        Assert.Null(_mlflow.Alias("iris-challenger", "champion"));
    }

    [Fact]
    public async Task PromoteAsync_SettingNamesTheServedModel_OverridesTheSpecsModelUri()
    {
        _mlflow.AddVersion("iris-v2", "2", "run-2b");
        _mlflow.SetAlias("iris", "champion", "1");
        var options = new PromotionOptions { ModelUris = { ["iris-challenger"] = "models:/iris@challenger" } };
        var names = new RegisteredModelNames(options);
        names.Observe(WithUri(Make.Prediction("r1", arm: "challenger"), "models:/iris-v2@challenger"));
        names.Observe(WithUri(Make.Prediction("r2", arm: "champion"), "models:/iris@champion"));

        Assert.True(await Promoter(options: options, names: names).PromoteAsync(Request(), CancellationToken.None));

        Assert.Equal("2", _mlflow.Alias("iris", "champion"));
        Assert.Null(_mlflow.Alias("iris-v2", "champion"));
    }

    [Fact]
    public void RegisteredName_NoSettingAndNoSpecUri_IsTheServedName()
    {
        var names = new RegisteredModelNames(new PromotionOptions());
        names.Observe(Make.Prediction("r1", arm: "challenger"));

        Assert.Equal("iris-challenger", names.RegisteredName("iris-challenger", "2"));
        Assert.Equal("models:/iris-challenger/2", names.ModelUri("iris-challenger", "2"));
    }

    [Theory]
    [InlineData("few", "has 499 of the 500 joined outcomes")]
    [InlineData("slow", "p99 latency 13 ms is more than 25% above champion's 10 ms")]
    [InlineData("dead letters", "dead-letter rate 3.00% is more than 1.00% above champion's 1.00%")]
    [InlineData("other winner", "the verdict does not name this arm")]
    public async Task PromoteAsync_TooFewOutcomesARegressionOrAnotherDirection_DoesNotPromote(string case_, string reason)
    {
        _mlflow.SetAlias("iris", "champion", "1");
        var request = case_ switch
        {
            "few" => Request(winner: Arm("challenger", "iris-challenger", "2", joined: 499)),
            "slow" => Request(winner: Arm("challenger", "iris-challenger", "2", p99: 13)),
            "dead letters" => Request(winner: Arm("challenger", "iris-challenger", "2", deadLetterRate: 0.03)),
            _ => Request() with { Verdict = s_winner with { Winner = "champion" } },
        };
        var logs = new Logs();

        Assert.False(await Promoter(logs).PromoteAsync(request, CancellationToken.None));

        Assert.Equal("1", _mlflow.Alias("iris", "champion"));
        Assert.Contains(logs.Messages, m => m.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PromoteAsync_VerdictOnADeclaredOutcome_GuardCountsTheLabelsCarryingItNotEveryJoinedLabel()
    {
        _mlflow.SetAlias("iris", "champion", "1");
        // 800 joined labels each, but only 499 of the challenger's carried the revenue the verdict was on.
        OutcomeSummary Revenue(long count) => new("revenue", "mean", 12, count, 800 - count, 12 * count, 12, 1);
        var request = Request(winner: Arm("challenger", "iris-challenger", "2") with { Outcomes = [Revenue(499)] }) with
        {
            Verdict = s_winner with { Outcome = "revenue" },
        };
        request = request with { Others = [.. request.Others.Select(c => c with { Outcomes = [Revenue(700)] })] };
        var logs = new Logs();

        Assert.False(await Promoter(logs).PromoteAsync(request, CancellationToken.None));
        Assert.Contains(logs.Messages, m => m.Contains("challenger has 499 of the 500 joined outcomes", StringComparison.Ordinal));

        var enough = request with { Winner = request.Winner with { Outcomes = [Revenue(600)] } };
        Assert.True(await Promoter().PromoteAsync(enough, CancellationToken.None));
        Assert.Equal("2", _mlflow.Alias("iris", "champion"));
    }

    [Fact]
    public async Task PromoteAsync_WinnerIsAlreadyChampion_ChangesNothing()
    {
        _mlflow.SetAlias("iris", "champion", "2");

        Assert.False(await Promoter().PromoteAsync(Request(), CancellationToken.None));
        Assert.Null(_mlflow.VersionTag("iris", "2", ChampionAlias.PromotedFromTag));
    }

    [Fact]
    public void Enabled_DefaultOptions_IsOff()
    {
        Assert.False(Promoter(enabled: null).Enabled);
    }

    private static Mesh.Contracts.V1.Prediction WithUri(Mesh.Contracts.V1.Prediction prediction, string modelUri)
    {
        prediction.ModelUri = modelUri;
        return prediction;
    }

    private static Confluent.Kafka.ConsumeResult<byte[], byte[]> PredictionRecord(Mesh.Contracts.V1.Prediction prediction, string modelUri) => new()
    {
        TopicPartitionOffset = new Confluent.Kafka.TopicPartitionOffset("predictions", 0, 0),
        Message = new Confluent.Kafka.Message<byte[], byte[]> { Value = Google.Protobuf.MessageExtensions.ToByteArray(WithUri(prediction, modelUri)) },
    };

    private static PromotionRequest Request(ArmSummary? winner = null) => new(
        "iris-ab",
        winner ?? Arm("challenger", "iris-challenger", "2"),
        [Arm("champion", "iris-champion", "1", correct: 640)],
        s_winner,
        new Dictionary<string, ArmRun>
        {
            ["challenger"] = new("iris-ab/challenger/1", "challenger run"),
            ["champion"] = new("iris-ab/champion/1", "champion run"),
        });

    private static ArmSummary Arm(string arm, string model, string version, long joined = 800, long correct = 720, double p99 = 10, double deadLetterRate = 0.01) =>
        new(arm, model, version, false, joined, joined, correct, (double)correct / joined, 5, p99, 0) { DeadLetterRate = deadLetterRate };

    private ModelPromoter Promoter(Logs? logs = null, bool? enabled = true, PromotionOptions? options = null, RegisteredModelNames? names = null)
    {
        var services = new ServiceCollection()
            .AddSingleton(new MlflowClient(_http, new MlflowClientOptions { TrackingUri = _mlflow.Uri, MaxRetries = 0 }))
            .BuildServiceProvider();
        var promotion = options ?? new PromotionOptions
        {
            ModelUris = { ["iris-challenger"] = "models:/iris@challenger", ["iris-champion"] = "models:/iris@champion" },
        };
        return new ModelPromoter(services,
            Microsoft.Extensions.Options.Options.Create(enabled is { } on ? new MetricsSinkOptions { PromoteWinner = on } : new MetricsSinkOptions()),
            Microsoft.Extensions.Options.Options.Create(promotion), names ?? new RegisteredModelNames(promotion), _writer, new ManualTimeProvider(),
            logs is null ? NullLogger<ModelPromoter>.Instance : logs);
    }

    private sealed class Logs : Microsoft.Extensions.Logging.ILogger<ModelPromoter>
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
