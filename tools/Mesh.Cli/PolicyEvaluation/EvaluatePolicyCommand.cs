using Mesh.Mlflow;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// <c>mesh evaluate-policy</c>: how candidate policies would have done on the logged traffic. Exit 2 when a
/// candidate had to be refused (it needs an arm the logging policy never chose), with the reason.
/// </summary>
internal static class EvaluatePolicyCommand
{
    public const int Refused = 2;

    public static async Task<int> RunAsync(EvaluatePolicySettings settings, TextWriter output, TextWriter error, IMlflowTracking? tracking, CancellationToken cancellationToken)
    {
        if (settings.Candidates.Count == 0)
        {
            throw new ArgumentException("No candidate policy: give --always <arm>, --weights <arm=weight,...>, --epsilon-greedy <epsilon> or --thompson.");
        }

        var source = new LoggedTrafficSource(settings.BootstrapServers);
        var predictions = await source.PredictionsAsync(settings.PredictionsFile, settings.PredictionsTopic, cancellationToken).ConfigureAwait(false);
        var experiment = settings.Experiment ?? SingleExperiment(predictions);
        var labels = source.Labels(settings.LabelsFile, settings.LabelsTopic, cancellationToken);
        var (decisions, counts) = DecisionJoin.Join(predictions, labels, experiment, settings.Reward);
        var results = settings.Candidates.Select(c => OffPolicyEstimator.Evaluate(decisions, c(decisions), settings.Estimators)).ToList();

        if (settings.Json)
        {
            PolicyEvaluationReport.WriteJson(output, experiment, counts, results);
        }
        else
        {
            PolicyEvaluationReport.WriteTable(output, experiment, counts, results);
        }

        foreach (var refused in results.Where(r => r.Refusal is not null))
        {
            error.WriteLine($"error: refusing to evaluate '{refused.Candidate.Description}': {refused.Refusal}");
        }

        if (tracking is not null)
        {
            var runs = await new PolicyEvaluationTracking(tracking, TimeProvider.System)
                .LogAsync(settings.MlflowExperiment, experiment, settings.Reward, results, cancellationToken).ConfigureAwait(false);
            error.WriteLine($"MLflow: {runs.Count} run(s) in experiment '{settings.MlflowExperiment}' at {tracking.Destination}: {string.Join(", ", runs)}");
        }

        return results.Any(r => r.Refusal is not null) ? Refused : 0;
    }

    private static string SingleExperiment(IReadOnlyList<LoggedPrediction> predictions)
    {
        var experiments = DecisionJoin.Experiments(predictions);
        return experiments.Count switch
        {
            0 => "",
            1 => experiments[0],
            _ => throw new ArgumentException($"--experiment: the predictions hold {experiments.Count} experiments ({string.Join(", ", experiments)}); name the one to evaluate."),
        };
    }
}
