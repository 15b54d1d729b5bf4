using Mesh.Producer.Csv;
using Mesh.Producer.Options;

namespace Mesh.Producer.Sources;

/// <summary>
/// Moves one feature's values by a fixed amount from a given record on (<c>Producer:Drift</c>): the mean shifts, the
/// spread stays, which is the drift a sink must see without labels. The amount is the shift in standard deviations of
/// that feature over the source's rows, so it means the same for any data.
/// </summary>
internal sealed class MeanShift(int featureIndex, long afterRecords, float delta)
{
    public float Delta => delta;

    /// <summary>The shift for <paramref name="table"/>, or null when none is configured.</summary>
    /// <exception cref="InvalidDataException">The feature is not one of the table's; the message names the setting.</exception>
    public static MeanShift? For(DriftInjectionOptions options, FeatureTable table)
    {
        if (!options.Enabled)
        {
            return null;
        }

        var index = IndexOf(table.FeatureNames, options.Feature!.Trim());
        if (index < 0)
        {
            throw new InvalidDataException($"Producer:Drift:Feature '{options.Feature}' is not a feature of the source (features: {string.Join(", ", table.FeatureNames)}).");
        }

        var mean = table.Rows.Average(r => (double)r.Values[index]);
        var std = Math.Sqrt(table.Rows.Average(r => (r.Values[index] - mean) * (r.Values[index] - mean)));
        return new MeanShift(index, options.AfterRecords, (float)(options.Shift * std));
    }

    /// <summary>The row to publish as record number <paramref name="sequence"/> (0-based): the row itself before the shift starts.</summary>
    public FeatureRow Apply(FeatureRow row, long sequence)
    {
        if (sequence < afterRecords)
        {
            return row;
        }

        var values = (float[])row.Values.Clone();
        values[featureIndex] += delta;
        return row with { Values = values };
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}
