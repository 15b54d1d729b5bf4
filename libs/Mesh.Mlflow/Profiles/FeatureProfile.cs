using System.Text.Json.Serialization;

namespace Mesh.Mlflow.Profiles;

/// <summary>
/// One feature of a <see cref="ReferenceProfile"/>. Bins: an open-ended one below <see cref="Min"/>, then the
/// intervals cut by <see cref="Edges"/> (<c>[Min, e1), [e1, e2) ... [ek, Max]</c>), then an open-ended one above
/// <see cref="Max"/>; so the first and last bins hold exactly the out-of-range values. Edges are the training data's
/// quantiles (deciles by default) strictly between its minimum and maximum, without repeats (tied values share a bin).
/// </summary>
/// <param name="Name">The feature's name, as records and the model's signature name it.</param>
/// <param name="Edges">Interior cut points, strictly increasing.</param>
/// <param name="Counts">Reference rows per bin: <c>Edges.Length + 3</c> numbers, the under- and over-range bins first and last (both 0 for training data).</param>
/// <param name="Missing">Reference rows with no finite value for the feature (not in <see cref="Counts"/>).</param>
/// <param name="Mean">Mean of the finite values.</param>
/// <param name="Std">Population standard deviation of the finite values.</param>
/// <param name="Min">Smallest finite value: below it is out of range.</param>
/// <param name="Max">Largest finite value: above it is out of range.</param>
public sealed record FeatureProfile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("edges")] double[] Edges,
    [property: JsonPropertyName("counts")] long[] Counts,
    [property: JsonPropertyName("missing")] long Missing,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("std")] double Std,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max)
{
    /// <summary>Bins in all: the under-range bin, <c>Edges.Length + 1</c> in range, the over-range bin.</summary>
    [JsonIgnore]
    public int BinCount => Edges.Length + 3;

    /// <summary>The bin of a finite value: 0 below <see cref="Min"/>, <c>BinCount - 1</c> above <see cref="Max"/>.</summary>
    public int BinOf(double value)
    {
        if (value < Min)
        {
            return 0;
        }

        if (value > Max)
        {
            return BinCount - 1;
        }

        // The number of edges at or below the value: [e_j, e_j+1) holds e_j.
        var index = Array.BinarySearch(Edges, value);
        var below = index >= 0 ? index + 1 : ~index;
        return 1 + below;
    }
}
