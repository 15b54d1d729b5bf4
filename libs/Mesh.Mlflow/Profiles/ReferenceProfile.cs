using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Mlflow.Profiles;

/// <summary>
/// What a model version's inputs and outputs looked like when it was trained (<c>reference_profile.json</c>, logged
/// beside <c>MLmodel</c>; docs/drift.md): per feature, quantile bins with their counts and the moments, and the share
/// of each predicted class. The metrics sink measures drift against it. One type for the writer (<c>mesh train</c>)
/// and the reader (the sink), so the two cannot disagree on the format.
/// </summary>
/// <param name="Schema">Always <see cref="SchemaName"/>; a reader refuses other values.</param>
/// <param name="Source"><c>training</c> (written with the model) or <c>first-records</c> (taken from live traffic by the sink).</param>
/// <param name="Rows">Rows the profile was computed from.</param>
/// <param name="Features">One per model input feature, in the model's order.</param>
/// <param name="Predictions">The predicted classes' counts; null for a model that predicts no classes.</param>
public sealed record ReferenceProfile(
    [property: JsonPropertyName("schema")] string Schema,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("features")] IReadOnlyList<FeatureProfile> Features,
    [property: JsonPropertyName("predictions")] PredictionProfile? Predictions)
{
    /// <summary>The artifact's file name, beside <c>MLmodel</c> (or <c>config.json</c> in a model folder).</summary>
    public const string FileName = "reference_profile.json";

    /// <summary>The value of <c>schema</c> in this version of the format.</summary>
    public const string SchemaName = "mesh.reference_profile.v1";

    /// <summary><see cref="Source"/> of a profile computed from the training data.</summary>
    public const string TrainingSource = "training";

    /// <summary><see cref="Source"/> of a profile the sink took from the first records it saw.</summary>
    public const string FirstRecordsSource = "first-records";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>The profile as the artifact's JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Reads an artifact, refusing one of another schema or with bins that do not add up.</summary>
    /// <exception cref="InvalidDataException">The text is not a valid profile of this schema; the message says why.</exception>
    public static ReferenceProfile Parse(string json)
    {
        ReferenceProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<ReferenceProfile>(json, s_json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{FileName} is not valid JSON: {e.Message}", e);
        }

        if (profile is null || profile.Schema != SchemaName)
        {
            throw new InvalidDataException($"{FileName}: schema '{profile?.Schema}' is not {SchemaName}.");
        }

        foreach (var feature in profile.Features ?? throw new InvalidDataException($"{FileName}: no features."))
        {
            if (feature.Counts.Length != feature.BinCount)
            {
                throw new InvalidDataException($"{FileName}: feature '{feature.Name}' has {feature.Edges.Length} edges, so {feature.BinCount} counts, not {feature.Counts.Length}.");
            }
        }

        return profile;
    }
}
