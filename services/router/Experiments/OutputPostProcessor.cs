using System.Collections.Frozen;
using Mesh.Contracts.V1;
using Mesh.Router.Inference;

namespace Mesh.Router.Experiments;

/// <summary>
/// An arm's <c>postProcess:</c>, settled against its output contract when the arm starts: the threshold class's
/// index, the mapped class names and the mapped labels are computed once, so writing a row costs a comparison, a
/// dictionary lookup and at most k small passes over the scores, with nothing allocated beyond the Prediction.
/// </summary>
internal sealed class OutputPostProcessor
{
    // At most this many scores are kept with topK on the stack; beyond it topK keeps all (a model with more classes
    // than this has no use for a per-record top-k this small to begin with).
    private const int MaxTopK = 64;

    private readonly int _thresholdIndex;
    private readonly float _thresholdScore;
    private readonly string? _thresholdLabel;
    private readonly string? _otherwise;
    private readonly int _topK;
    private readonly string[]? _classNames;
    private readonly FrozenDictionary<string, string>? _labels;

    private OutputPostProcessor(int thresholdIndex, float thresholdScore, string? thresholdLabel, string? otherwise, int topK, string[]? classNames, FrozenDictionary<string, string>? labels)
    {
        _thresholdIndex = thresholdIndex;
        _thresholdScore = thresholdScore;
        _thresholdLabel = thresholdLabel;
        _otherwise = otherwise;
        _topK = topK;
        _classNames = classNames;
        _labels = labels;
    }

    /// <summary>
    /// The post-processor of an arm, or null when it has none. <paramref name="contract"/> is what the arm's server
    /// answers; a threshold or top-k needs its scores and class names, and every class named must be one of them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The contract lacks what the definition needs; the message names the field.</exception>
    public static OutputPostProcessor? Create(PostProcessDefinition? definition, OutputContract contract)
    {
        if (definition is null)
        {
            return null;
        }

        var classes = contract.ClassNames;
        if ((definition.Threshold is not null || definition.TopK is not null) && (contract.ScoresOutput is null || classes is not { Length: > 0 }))
        {
            throw new InvalidOperationException(
                $"postProcess.{(definition.Threshold is not null ? "threshold" : "topK")} needs the model's scores and class names; the arm reads {contract.Describe()}.");
        }

        var thresholdIndex = -1;
        if (definition.Threshold is { Class: { } thresholdClass })
        {
            thresholdIndex = Array.IndexOf(classes!, thresholdClass);
            if (thresholdIndex < 0)
            {
                throw new InvalidOperationException($"postProcess.threshold.class '{thresholdClass}' is not a class of the model (classes: {string.Join(", ", classes!)}).");
            }
        }

        FrozenDictionary<string, string>? labels = null;
        string[]? mapped = null;
        if (definition.Labels is { Count: > 0 } map)
        {
            if (classes is not null)
            {
                foreach (var from in map.Keys.Where(k => !classes.Contains(k)))
                {
                    throw new InvalidOperationException($"postProcess.labels.{from}: '{from}' is not a class of the model (classes: {string.Join(", ", classes)}).");
                }

                mapped = [.. classes.Select(c => map.GetValueOrDefault(c, c))];
                if (mapped.Distinct(StringComparer.Ordinal).Count() != mapped.Length)
                {
                    throw new InvalidOperationException($"postProcess.labels: the classes would be written as {string.Join(", ", mapped)}, a name twice.");
                }
            }

            labels = map.ToFrozenDictionary(StringComparer.Ordinal);
        }

        var otherwise = definition.Threshold?.Otherwise;
        return new OutputPostProcessor(
            thresholdIndex,
            (float)(definition.Threshold?.Score ?? 0),
            thresholdIndex < 0 ? null : mapped?[thresholdIndex] ?? classes![thresholdIndex],
            otherwise is null ? null : labels?.GetValueOrDefault(otherwise, otherwise) ?? otherwise,
            definition.TopK is { } k && k < Math.Min(MaxTopK, classes?.Length ?? 0) ? k : 0,
            mapped,
            labels);
    }

    /// <summary>Writes row <paramref name="row"/> of <paramref name="output"/> into <paramref name="target"/>, post-processed.</summary>
    public void Write(PredictionOutput target, InferenceOutput output, int row)
    {
        var scores = output.ScoresOf(row);
        var names = output.ClassNames;
        target.Label = Label(output.LabelOf(row), scores, names);
        if (_topK == 0 || scores.Length <= _topK)
        {
            foreach (var score in scores)
            {
                target.Scores.Add(score);
            }

            if (_classNames is not null || _labels is null)
            {
                target.ClassNames.AddRange(_classNames ?? names);
                return;
            }

            for (var c = 0; c < names.Count; c++)
            {
                target.ClassNames.Add(NameAt(names, c));
            }

            return;
        }

        // The k best, best first; ties keep the model's class order.
        Span<int> best = stackalloc int[_topK];
        var count = 0;
        for (var c = 0; c < scores.Length; c++)
        {
            var at = count < _topK ? count++ : _topK;
            while (at > 0 && scores[best[at - 1]] < scores[c])
            {
                if (at < _topK)
                {
                    best[at] = best[at - 1];
                }

                at--;
            }

            if (at < _topK)
            {
                best[at] = c;
            }
        }

        foreach (var index in best)
        {
            target.Scores.Add(scores[index]);
            target.ClassNames.Add(NameAt(names, index));
        }
    }

    private string Label(string label, ReadOnlySpan<float> scores, IReadOnlyList<string> names)
    {
        if (_thresholdIndex < 0 || scores.Length <= _thresholdIndex)
        {
            return _labels is not null && _labels.TryGetValue(label, out var renamed) ? renamed : label;
        }

        if (scores[_thresholdIndex] >= _thresholdScore)
        {
            return _thresholdLabel!;
        }

        if (_otherwise is not null)
        {
            return _otherwise;
        }

        var other = -1;
        for (var c = 0; c < scores.Length; c++)
        {
            if (c != _thresholdIndex && (other < 0 || scores[c] > scores[other]))
            {
                other = c;
            }
        }

        return other < 0 ? label : NameAt(names, other);
    }

    // The class names the contract fixed are mapped once at start; names only the answer gives are mapped as read.
    private string NameAt(IReadOnlyList<string> names, int index) =>
        _classNames is not null ? _classNames[index]
        : _labels is not null && _labels.TryGetValue(names[index], out var renamed) ? renamed
        : names[index];
}
