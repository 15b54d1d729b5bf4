using System.Globalization;
using Mesh.Contracts.V1;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>Scores one prediction against its label: correctness, log loss and numeric error where they apply.</summary>
internal static class OutcomeScoring
{
    // Log loss of a probability of zero is infinite; scikit-learn and MLflow's evaluators clip the same way.
    private const double MinProbability = 1e-15;

    public static JoinScore Score(string predictedLabel, PredictionOutput? output, string label)
    {
        var correct = string.Equals(predictedLabel, label, StringComparison.Ordinal);
        double? logLoss = null;
        if (output is { Scores.Count: > 0 } && output.ClassNames.Count == output.Scores.Count)
        {
            var index = output.ClassNames.IndexOf(label);
            // A label outside the model's classes had probability zero.
            var p = index >= 0 ? output.Scores[index] : 0;
            logLoss = -Math.Log(Math.Clamp(p, MinProbability, 1));
        }

        double? error = null;
        if (double.TryParse(label, NumberStyles.Float, CultureInfo.InvariantCulture, out var observed))
        {
            if (double.TryParse(predictedLabel, NumberStyles.Float, CultureInfo.InvariantCulture, out var predicted))
            {
                error = predicted - observed;
            }
            else if (predictedLabel.Length == 0 && output is not null)
            {
                // A regressor answers in value, not label.
                error = output.Value - observed;
                correct = output.Value == observed;
            }
        }

        return new JoinScore(correct, logLoss, error);
    }
}
