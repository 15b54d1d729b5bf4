using Inference;

namespace Mesh.Router.Inference;

/// <summary>
/// An experiment's feature contract (the spec's <c>features:</c>) checked against a model's input when its arm is
/// built: a model that takes a feature the contract lacks, or lacks one it lists, is refused before it takes traffic.
/// </summary>
internal static class FeatureContract
{
    /// <summary>The parameter of an input in ModelMetadata that names its columns (a JSON array), as the mesh model host sends it.</summary>
    public const string FeatureNamesParameter = "feature_names";

    /// <summary>
    /// The order records with names are mapped to: the model's own column names when its metadata gives them, else the
    /// contract's; null when neither names the features (records are then taken by position).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model does not match the contract; the message names the feature.</exception>
    /// <exception cref="InvalidDataException">The input's <c>feature_names</c> parameter is not a JSON array of strings.</exception>
    public static FeatureOrder? Check(ModelMetadataResponse metadata, ModelInputShape input, IReadOnlyList<string>? features)
    {
        var modelNames = ModelFeatureNames(metadata, input);
        if (modelNames is not null && modelNames.Length != input.FeatureWidth)
        {
            throw new InvalidOperationException($"input '{input.InputName}' names {modelNames.Length} features but takes {input.FeatureWidth}.");
        }

        if (features is null)
        {
            return modelNames is null ? null : new FeatureOrder(modelNames);
        }

        if (modelNames is not null)
        {
            var missing = modelNames.Where(n => !features.Contains(n, StringComparer.Ordinal)).ToList();
            var extra = features.Where(n => !modelNames.Contains(n, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
            {
                var problems = missing.Select(n => $"takes feature '{n}', which the experiment's features: do not list")
                    .Concat(extra.Select(n => $"does not take the experiment's feature '{n}'"));
                throw new InvalidOperationException(
                    $"input '{input.InputName}' {string.Join("; and ", problems)} (the model takes {string.Join(", ", modelNames)}).");
            }

            return new FeatureOrder(modelNames);
        }

        if (features.Count != input.FeatureWidth)
        {
            throw new InvalidOperationException(
                $"input '{input.InputName}' takes {input.FeatureWidth} features; the experiment's features: list {features.Count} ({string.Join(", ", features)}).");
        }

        return new FeatureOrder([.. features]);
    }

    private static string[]? ModelFeatureNames(ModelMetadataResponse metadata, ModelInputShape input) =>
        StringListParameter.Read(metadata.Inputs.FirstOrDefault(i => i.Name == input.InputName)?.Parameters, FeatureNamesParameter, $"input '{input.InputName}'");
}
