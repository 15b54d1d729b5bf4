using System.Globalization;
using Mesh.Mlflow;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// One MLflow run per evaluated candidate (params: the policy; metrics: the estimates), so candidates compare side
/// by side in the MLflow UI. Refused candidates have no estimates and get no run.
/// </summary>
internal sealed class PolicyEvaluationTracking(IMlflowTracking tracking, TimeProvider time)
{
    public async Task<IReadOnlyList<string>> LogAsync(string mlflowExperiment, string experiment, RewardKind reward, IReadOnlyList<PolicyEvaluationResult> results, CancellationToken cancellationToken)
    {
        var experimentId = await tracking.GetOrCreateExperimentAsync(mlflowExperiment, cancellationToken).ConfigureAwait(false);
        var runs = new List<string>();
        foreach (var result in results.Where(r => r.Refusal is null))
        {
            var run = await tracking.CreateRunAsync(experimentId, result.Candidate.Description,
                [new("mesh.tool", "evaluate-policy"), new("mesh.experiment", experiment)], cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var parameters = new List<MlflowKeyValue>
            {
                new("policy", result.Candidate.Description),
                new("experiment", experiment),
                new("reward", reward.ToString().ToLowerInvariant()),
                new("reward_model", result.RewardModel),
            };
            parameters.AddRange(result.Candidate.Probabilities.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => new MlflowKeyValue($"policy.{p.Key}", p.Value.ToString("R", CultureInfo.InvariantCulture))));
            var metrics = new List<MlflowMetric>
            {
                new("decisions", result.Decisions, now, 0),
                new("effective_sample_size", result.EffectiveSampleSize, now, 0),
                new("logged_value", result.LoggedValue, now, 0),
            };
            foreach (var e in result.Estimates.Where(e => double.IsFinite(e.Value)))
            {
                metrics.Add(new(e.Estimator, e.Value, now, 0));
                metrics.Add(new($"{e.Estimator}_lower", e.Lower, now, 0));
                metrics.Add(new($"{e.Estimator}_upper", e.Upper, now, 0));
                metrics.Add(new($"{e.Estimator}_std_error", e.StandardError, now, 0));
            }

            await tracking.LogBatchAsync(run.RunId, metrics, parameters, [], cancellationToken).ConfigureAwait(false);
            await tracking.UpdateRunAsync(run.RunId, MlflowRunStatus.Finished, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
            runs.Add(run.RunId);
        }

        return runs;
    }
}
