using System.Text.Json.Serialization;

namespace Mesh.Mlflow.Profiles;

/// <summary>How often the model predicted each class on the reference rows.</summary>
/// <param name="Classes">The class names, in the model's score order.</param>
/// <param name="Counts">Reference rows predicted as each class, in the same order.</param>
public sealed record PredictionProfile(
    [property: JsonPropertyName("classes")] IReadOnlyList<string> Classes,
    [property: JsonPropertyName("counts")] long[] Counts);
