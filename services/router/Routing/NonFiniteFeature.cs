using Google.Protobuf.Collections;

namespace Mesh.Router.Routing;

/// <summary>Finds NaN and ±Infinity among a record's features, which most models turn into garbage scores silently.</summary>
internal static class NonFiniteFeature
{
    /// <summary>The index of the first non-finite value, or -1 when all are finite.</summary>
    public static int IndexOf(RepeatedField<float> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Names the feature: its index, its name when the record carries names, and its value.</summary>
    public static string Describe(RepeatedField<float> values, RepeatedField<string> names, int index)
    {
        var value = values[index];
        var what = float.IsNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity";
        return index < names.Count && names[index].Length > 0
            ? $"feature {index} ('{names[index]}') is {what}"
            : $"feature {index} is {what}";
    }
}
