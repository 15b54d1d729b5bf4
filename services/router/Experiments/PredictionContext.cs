using System.Globalization;
using Google.Protobuf;
using Mesh.Contracts.V1;

namespace Mesh.Router.Experiments;

/// <summary>
/// The entries the router adds to every Prediction's <c>context</c> map (docs/internal-contracts.md): the experiment's
/// strategy and the arm's configured weight. Encoded once per arm when an experiment is built (a reload or a weight
/// change builds it again, so they follow the policy version) and appended to each serialized Prediction: protobuf
/// merges map entries of concatenated messages, so a record costs no allocation for them beyond its value's bytes.
/// </summary>
internal sealed class PredictionContext
{
    /// <summary><c>ab</c>, <c>bandit</c> or <c>ensemble</c>: the strategy of the Prediction's experiment (shadows too).</summary>
    public const string StrategyKey = "mesh.strategy";

    /// <summary>The arm's configured weight, invariant-culture text (see <see cref="ForExperiment"/> for shadows and ensembles).</summary>
    public const string WeightKey = "mesh.weight";

    private readonly byte[] _encoded;

    private PredictionContext(string strategy, double weight)
    {
        Strategy = strategy;
        Weight = weight.ToString(CultureInfo.InvariantCulture);
        // A Prediction holding only these entries encodes to exactly the field-16 entries to append.
        _encoded = new Prediction { Context = { [StrategyKey] = Strategy, [WeightKey] = Weight } }.ToByteArray();
    }

    public string Strategy { get; }

    public string Weight { get; }

    /// <summary>The encoded map entries (field 16 of mesh.v1.Prediction).</summary>
    public ReadOnlySpan<byte> Encoded => _encoded;

    /// <summary>
    /// One context per arm and shadow, plus the ensemble's. An arm's weight is the one configured (as changed through
    /// the admin API); bandit arms carry theirs too though the bandit learns its split (0 when the spec gives none); a
    /// shadow takes no share of the primary traffic, so 0; the combined ensemble Prediction answers every record, so 1.
    /// </summary>
    public static ExperimentContexts ForExperiment(ExperimentStrategy strategy, Experiments.ExperimentDefinition definition)
    {
        var name = strategy switch
        {
            ExperimentStrategy.Bandit => "bandit",
            ExperimentStrategy.Ensemble => "ensemble",
            _ => "ab",
        };
        var shadow = new PredictionContext(name, 0);
        return new ExperimentContexts(
            [.. definition.Arms.Select(a => new PredictionContext(name, a.Weight))],
            [.. (definition.Shadows ?? []).Select(_ => shadow)],
            new PredictionContext(name, 1));
    }

    /// <summary>The Prediction's bytes with the context entries appended, in one array.</summary>
    public byte[] Serialize(Prediction prediction) => Serialize(prediction, default);

    /// <summary>
    /// As <see cref="Serialize(Prediction)"/>, after <paramref name="header"/> (the Schema Registry wire-format
    /// header of the topic, or empty): one array per Prediction either way.
    /// </summary>
    public byte[] Serialize(Prediction prediction, ReadOnlySpan<byte> header)
    {
        var size = prediction.CalculateSize();
        var value = new byte[header.Length + size + _encoded.Length];
        header.CopyTo(value);
        prediction.WriteTo(value.AsSpan(header.Length, size));
        _encoded.CopyTo(value.AsSpan(header.Length + size));
        return value;
    }
}
