namespace Mesh.Cli.Tests;

public sealed class EvaluatePolicyCommandTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>, IDisposable
{
    private static readonly JsonFormatter s_json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("mesh-ope-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task RunAsync_ConsumerJsonLines_JoinsByRequestIdAndEstimatesEachCandidate()
    {
        var (predictions, labels) = Traffic(seed: 11, count: 600);
        predictions.Add(new Prediction { RequestId = "r0", Experiment = "iris-ab", Arm = "logreg", AssignmentProbability = 0.5, Output = new PredictionOutput { Label = "x" } });
        predictions.Add(new Prediction { RequestId = "shadow-1", Experiment = "iris-ab", Arm = "mlp", Shadow = true, Output = new PredictionOutput { Label = "x" } });
        predictions.Add(new Prediction { RequestId = "no-label", Experiment = "iris-ab", Arm = "logreg", AssignmentProbability = 0.5, Output = new PredictionOutput { Label = "x" } });
        var output = new StringWriter();

        var exit = await EvaluatePolicyCommand.RunAsync(Settings(WriteJsonLines(predictions, labels), "always boosted", "weights logreg=50,boosted=50"), output, new StringWriter(), null, CancellationToken.None);

        Assert.Equal(0, exit);
        var root = JsonDocument.Parse(output.ToString()).RootElement;
        Assert.Equal(600, root.GetProperty("input").GetProperty("decisions").GetInt32());
        Assert.Equal(1, root.GetProperty("input").GetProperty("shadow").GetInt32());
        Assert.Equal(1, root.GetProperty("input").GetProperty("duplicates").GetInt32());
        Assert.Equal(1, root.GetProperty("input").GetProperty("unlabelled").GetInt32());
        var candidates = root.GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(2, candidates.Count);
        var ips = candidates[0].GetProperty("estimates").EnumerateArray().Single(e => e.GetProperty("estimator").GetString() == "ips");
        Assert.InRange(0.8, ips.GetProperty("lower").GetDouble(), ips.GetProperty("upper").GetDouble());
        Assert.Equal("logged model scores", candidates[0].GetProperty("reward_model").GetString());
    }

    [Fact]
    public async Task RunAsync_CandidateNeedsArmNeverLogged_RefusesWithReasonAndNonZeroExit()
    {
        var (predictions, labels) = Traffic(seed: 5, count: 300);
        predictions.RemoveAll(p => p.Arm == "mlp");
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await EvaluatePolicyCommand.RunAsync(Settings(WriteJsonLines(predictions, labels), "always mlp"), output, error, null, CancellationToken.None);

        Assert.Equal(EvaluatePolicyCommand.Refused, exit);
        Assert.Contains("refusing to evaluate 'always mlp'", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("'mlp'", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("never chose", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ConsumerParquet_ReadsItsColumns()
    {
        var (predictions, labels) = Traffic(seed: 3, count: 200);
        var parquet = Path.Combine(_folder.FullName, "predictions.parquet");
        await using (var stream = File.Create(parquet))
        {
            await ParquetSerializer.SerializeAsync(predictions.Select(p => new LoggedPredictionRow
            {
                RequestId = p.RequestId, Experiment = p.Experiment, Arm = p.Arm, Label = p.Output.Label, Scores = [.. p.Output.Scores], AssignmentProbability = p.AssignmentProbability,
            }), stream);
        }

        var (_, labelsFile) = WriteJsonLines(predictions, labels);
        var output = new StringWriter();

        var exit = await EvaluatePolicyCommand.RunAsync(Settings((parquet, labelsFile), "always logreg"), output, new StringWriter(), null, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Equal(200, JsonDocument.Parse(output.ToString()).RootElement.GetProperty("input").GetProperty("decisions").GetInt32());
    }

    [Fact]
    public async Task RunAsync_Topics_ReadsPredictionsAndLabelsFromKafka()
    {
        var (predictions, labels) = Traffic(seed: 8, count: 150);
        var predictionsTopic = KafkaTestCluster.UniqueTopic("ope-predictions");
        var labelsTopic = KafkaTestCluster.UniqueTopic("ope-labels");
        await cluster.CreateTopicsAsync(2, predictionsTopic, labelsTopic);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            predictions.ForEach(p => producer.Produce(predictionsTopic, new Message<byte[], byte[]> { Key = [], Value = p.ToByteArray() }));
            labels.ForEach(l => producer.Produce(labelsTopic, new Message<byte[], byte[]> { Key = [], Value = l.ToByteArray() }));
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var settings = Settings((null, null), "weights logreg=1,boosted=1,mlp=1") with { BootstrapServers = () => cluster.BootstrapServers, PredictionsTopic = predictionsTopic, LabelsTopic = labelsTopic };
        var output = new StringWriter();

        var exit = await EvaluatePolicyCommand.RunAsync(settings, output, new StringWriter(), null, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Equal(150, JsonDocument.Parse(output.ToString()).RootElement.GetProperty("input").GetProperty("decisions").GetInt32());
    }

    [Fact]
    public async Task RunAsync_Mlflow_LogsOneFinishedRunPerCandidateWithPolicyParamsAndEstimateMetrics()
    {
        var (predictions, labels) = Traffic(seed: 2, count: 300);
        var store = new LocalTrackingStore(Path.Combine(_folder.FullName, "tracking"));

        var exit = await EvaluatePolicyCommand.RunAsync(Settings(WriteJsonLines(predictions, labels), "always boosted", "weights logreg=80,boosted=20"), new StringWriter(), new StringWriter(), store, CancellationToken.None);

        Assert.Equal(0, exit);
        var experimentId = await store.GetOrCreateExperimentAsync("ope-test");
        var runs = (await store.SearchRunsAsync([experimentId], "tags.mesh.tool = 'evaluate-policy'", 10)).Runs ?? [];
        Assert.Equal(2, runs.Count);
        var run = runs.Single(r => r.Data.Params!.Any(p => p.Key == "policy" && p.Value == "weights logreg=80,boosted=20"));
        Assert.Equal(MlflowRunStatus.Finished, run.Info.Status);
        Assert.Equal("0.8", run.Data.Params!.Single(p => p.Key == "policy.logreg").Value);
        Assert.Contains(run.Data.Metrics!, m => m.Key == "dr" && m.Value > 0.5 && m.Value < 1);
        Assert.Contains(run.Data.Metrics!, m => m.Key == "ips_lower");
        Assert.Contains(run.Data.Metrics!, m => m.Key == "effective_sample_size");
    }

    [Fact]
    public async Task RunAsync_SeveralExperimentsAndNoneNamed_ThrowsNamingTheOption()
    {
        var (predictions, labels) = Traffic(seed: 4, count: 20);
        predictions[0].Experiment = "other";

        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            EvaluatePolicyCommand.RunAsync(Settings(WriteJsonLines(predictions, labels), "always logreg") with { Experiment = null }, new StringWriter(), new StringWriter(), null, CancellationToken.None));

        Assert.StartsWith("--experiment", e.Message, StringComparison.Ordinal);
    }

    private static EvaluatePolicySettings Settings((string? Predictions, string? Labels) files, params string[] candidates) => new(
        () => throw new InvalidOperationException("these inputs are files; no cluster should be asked"),
        files.Predictions,
        "unused",
        files.Labels,
        "unused",
        "iris-ab",
        [.. candidates.Select(c => c.StartsWith("always ", StringComparison.Ordinal) ? CandidatePolicy.Always(c[7..]) : CandidatePolicy.Weights(c[8..]))
            .Select(p => (CandidateFactory)(_ => p))],
        RewardKind.Correct,
        new EstimatorSettings(),
        Json: true,
        "ope-test");

    // The simulation's decisions as the router logs them (label right or wrong, the model's class probabilities) and their labels.
    private (List<Prediction> Predictions, List<Label> Labels) Traffic(int seed, int count)
    {
        var predictions = new List<Prediction>();
        var labels = new List<Label>();
        foreach (var d in LoggedTrafficSimulation.Generate(seed, count, withScores: true))
        {
            var confidence = (float)d.ModelExpectedReward!.Value;
            predictions.Add(new Prediction
            {
                RequestId = d.RequestId,
                Experiment = "iris-ab",
                Arm = d.Arm,
                AssignmentProbability = d.Propensity,
                Output = new PredictionOutput { Label = "setosa", Scores = { confidence, 1 - confidence }, ClassNames = { "setosa", "versicolor" } },
            });
            labels.Add(new Label { RequestId = d.RequestId, Value = d.Reward == 1 ? "setosa" : "versicolor" });
        }

        return (predictions, labels);
    }

    private (string Predictions, string Labels) WriteJsonLines(List<Prediction> predictions, List<Label> labels)
    {
        var p = Path.Combine(_folder.FullName, $"predictions-{Guid.NewGuid():N}.jsonl");
        var l = Path.Combine(_folder.FullName, $"labels-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(p, predictions.Select(x => s_json.Format(x)));
        File.WriteAllLines(l, labels.Select(x => s_json.Format(x)));
        return (p, l);
    }
}
