using Inference;

namespace Mesh.Router.Inference;

/// <summary>What the router needs to know of a model's input: its name and its feature width.</summary>
internal sealed record ModelInputShape(string InputName, int FeatureWidth)
{
    public const string Fp32 = "FP32";

    /// <summary>The first input, which must be FP32 with a fixed last dimension (the router packs rows of that width).</summary>
    public static ModelInputShape FromMetadata(ModelMetadataResponse metadata)
    {
        if (metadata.Inputs.Count == 0)
        {
            throw new InvalidOperationException("ModelMetadata lists no inputs.");
        }

        var input = metadata.Inputs[0];
        if (!string.Equals(input.Datatype, Fp32, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"input '{input.Name}' has datatype {input.Datatype}; the router sends {Fp32}.");
        }

        var width = input.Shape.Count == 0 ? -1 : input.Shape[^1];
        if (width is <= 0 or > int.MaxValue)
        {
            throw new InvalidOperationException(
                $"input '{input.Name}' has shape [{string.Join(", ", input.Shape)}]; the router needs a fixed last dimension (the feature count).");
        }

        return new ModelInputShape(input.Name, (int)width);
    }
}
