using System.Collections.Frozen;
using Mesh.Consumer.Options;
using Mesh.Contracts.V1;

namespace Mesh.Consumer.Handling;

/// <summary>Keeps the predictions of the configured experiments, arms and models (an empty list keeps all).</summary>
internal sealed class PredictionFilter(IEnumerable<string> experimentList, IEnumerable<string> armList, IEnumerable<string> modelList)
{
    private readonly FrozenSet<string> _experiments = experimentList.ToFrozenSet(StringComparer.Ordinal);
    private readonly FrozenSet<string> _arms = armList.ToFrozenSet(StringComparer.Ordinal);
    private readonly FrozenSet<string> _models = modelList.ToFrozenSet(StringComparer.Ordinal);

    public static PredictionFilter All { get; } = new([], [], []);

    public static PredictionFilter From(ConsumerOptions o) =>
        new(ConsumerOptions.Split(o.Experiment), ConsumerOptions.Split(o.Arm), ConsumerOptions.Split(o.Model));

    public bool Keeps(Prediction p) =>
        (_experiments.Count == 0 || _experiments.Contains(p.Experiment))
        && (_arms.Count == 0 || _arms.Contains(p.Arm))
        && (_models.Count == 0 || _models.Contains(p.ModelName));
}
