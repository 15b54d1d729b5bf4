using Mesh.Contracts.V1;
using Mesh.Router.Experiments;
using Mesh.Router.Inference;

namespace Mesh.Router.Routing;

/// <summary>
/// Gathers the members' answers for one record of an ensemble experiment; the last member to answer combines
/// them into the one Prediction the record owes. A member that failed is left out; only when every member failed
/// is the record dead-lettered.
/// </summary>
internal sealed class EnsembleJoin(ExperimentRuntime experiment, int members)
{
    public const string ArmName = "ensemble";

    private readonly Member[] _members = new Member[members];
    private int _pending = members;

    public ExperimentRuntime Experiment => experiment;

    /// <summary>Records a member's answer; true when it was the last one outstanding.</summary>
    public bool Complete(int member, InferenceOutput output, int row, double inferenceMs)
    {
        _members[member] = new Member(true, output.LabelOf(row), output.ScoresOf(row).ToArray(), output.ClassNames, inferenceMs, "");
        return Interlocked.Decrement(ref _pending) == 0;
    }

    /// <summary>Records a member's failure; true when it was the last one outstanding.</summary>
    public bool Fail(int member, string reason)
    {
        _members[member] = new Member(false, "", [], [], 0, reason);
        return Interlocked.Decrement(ref _pending) == 0;
    }

    /// <summary>Why every member failed, when they all did.</summary>
    public string FailureReason => string.Join("; ", _members.Select((m, i) => $"{experiment.Arms[i].Identity.Arm}: {m.Error}"));

    /// <summary>The combined Prediction, or null when no member answered.</summary>
    public Prediction? Combine(RoutedRecord record, DateTime predictedAt)
    {
        var answered = Enumerable.Range(0, _members.Length).Where(i => _members[i].Ok).ToArray();
        if (answered.Length == 0)
        {
            return null;
        }

        var prediction = PredictionFactory.CreateEmpty(
            record,
            experiment.Name,
            ArmName,
            string.Join('+', answered.Select(i => experiment.Arms[i].Identity.Model)),
            string.Join('+', answered.Select(i => experiment.Arms[i].Identity.Version)),
            1.0,
            experiment.PolicyVersion,
            answered.Max(i => _members[i].InferenceMs),
            predictedAt);

        var first = _members[answered[0]];
        var scoresAgree = first.Scores.Length > 0 && answered.All(i =>
            _members[i].Scores.Length == first.Scores.Length && _members[i].ClassNames.SequenceEqual(first.ClassNames));
        if (experiment.Combine != EnsembleCombine.Vote && scoresAgree)
        {
            var combined = new double[first.Scores.Length];
            var totalWeight = 0.0;
            foreach (var i in answered)
            {
                var weight = experiment.Combine == EnsembleCombine.WeightedMean ? experiment.EnsembleWeights[i] : 1.0;
                totalWeight += weight;
                for (var c = 0; c < combined.Length; c++)
                {
                    combined[c] += weight * _members[i].Scores[c];
                }
            }

            var best = 0;
            for (var c = 0; c < combined.Length; c++)
            {
                prediction.Output.Scores.Add((float)(combined[c] / totalWeight));
                if (combined[c] > combined[best])
                {
                    best = c;
                }
            }

            prediction.Output.ClassNames.AddRange(first.ClassNames);
            prediction.Output.Label = first.ClassNames.Count > best ? first.ClassNames[best] : best.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return prediction;
        }

        // Majority vote (also the answer when the members' scores cannot be averaged); a tie goes to the label of
        // the earliest arm among the tied, so the result does not depend on the order answers arrived in.
        var votes = new Dictionary<string, (int Count, int FirstMember)>(StringComparer.Ordinal);
        foreach (var i in answered)
        {
            var label = _members[i].Label;
            votes[label] = votes.TryGetValue(label, out var v) ? (v.Count + 1, v.FirstMember) : (1, i);
        }

        prediction.Output.Label = votes.OrderByDescending(v => v.Value.Count).ThenBy(v => v.Value.FirstMember).First().Key;
        return prediction;
    }

    private readonly record struct Member(bool Ok, string Label, float[] Scores, IReadOnlyList<string> ClassNames, double InferenceMs, string Error);
}
