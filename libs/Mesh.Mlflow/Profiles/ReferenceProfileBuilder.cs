namespace Mesh.Mlflow.Profiles;

/// <summary>
/// Computes a <see cref="ReferenceProfile"/> from rows held in memory: the training data (<c>mesh train</c>) or the
/// first records the metrics sink sees for a model without one. One implementation, so a profile means the same
/// wherever it was made.
/// </summary>
public static class ReferenceProfileBuilder
{
    /// <summary>Quantile bins per feature by default: deciles.</summary>
    public const int DefaultBins = 10;

    /// <summary>Builds the profile of <paramref name="rows"/> (one value per feature name; non-finite values count as missing).</summary>
    /// <param name="featureNames">The features, in the order of each row's values.</param>
    /// <param name="rows">The reference rows.</param>
    /// <param name="classes">The model's classes in score order (empty for a model without classes).</param>
    /// <param name="source"><see cref="ReferenceProfile.TrainingSource"/> or <see cref="ReferenceProfile.FirstRecordsSource"/>.</param>
    /// <param name="bins">Quantile bins per feature (fewer where tied values share a cut).</param>
    /// <param name="predictedClasses">Each row's predicted class, or null when the model predicts none.</param>
    public static ReferenceProfile Build(
        IReadOnlyList<string> featureNames,
        IReadOnlyList<IReadOnlyList<double>> rows,
        IReadOnlyList<string> classes,
        IReadOnlyList<string>? predictedClasses,
        string source,
        int bins = DefaultBins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var features = new List<FeatureProfile>(featureNames.Count);
        for (var f = 0; f < featureNames.Count; f++)
        {
            var values = new List<double>(rows.Count);
            foreach (var row in rows)
            {
                if (f < row.Count && double.IsFinite(row[f]))
                {
                    values.Add(row[f]);
                }
            }

            features.Add(Feature(featureNames[f], values, rows.Count - values.Count, bins));
        }

        PredictionProfile? predictions = null;
        if (predictedClasses is not null && classes.Count > 0)
        {
            var counts = new long[classes.Count];
            foreach (var predicted in predictedClasses)
            {
                var index = IndexOf(classes, predicted);
                if (index >= 0)
                {
                    counts[index]++;
                }
            }

            predictions = new PredictionProfile(classes, counts);
        }

        return new ReferenceProfile(ReferenceProfile.SchemaName, source, rows.Count, features, predictions);
    }

    private static FeatureProfile Feature(string name, List<double> values, long missing, int bins)
    {
        if (values.Count == 0)
        {
            // Nothing finite to cut: one in-range bin at 0 that nothing falls into, so every live value is out of range.
            return new FeatureProfile(name, [], new long[3], missing, double.NaN, double.NaN, 0, 0);
        }

        values.Sort();
        var min = values[0];
        var max = values[^1];
        var edges = new List<double>(bins - 1);
        for (var q = 1; q < bins; q++)
        {
            var cut = Quantile(values, (double)q / bins);
            if (cut > min && cut < max && (edges.Count == 0 || cut > edges[^1]))
            {
                edges.Add(cut);
            }
        }

        var profile = new FeatureProfile(name, [.. edges], new long[edges.Count + 3], missing, Mean(values), 0, min, max);
        foreach (var value in values)
        {
            profile.Counts[profile.BinOf(value)]++;
        }

        return profile with { Std = Std(values, profile.Mean) };
    }

    // Linear interpolation between the closest ranks (numpy's default, "type 7"), on sorted values.
    private static double Quantile(List<double> sorted, double q)
    {
        var position = q * (sorted.Count - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
    }

    private static double Mean(List<double> values)
    {
        var sum = 0.0;
        foreach (var value in values)
        {
            sum += value;
        }

        return sum / values.Count;
    }

    // The population standard deviation: the profile describes these rows, it does not estimate beyond them.
    private static double Std(List<double> values, double mean)
    {
        var sum = 0.0;
        foreach (var value in values)
        {
            sum += (value - mean) * (value - mean);
        }

        return Math.Sqrt(sum / values.Count);
    }

    private static int IndexOf(IReadOnlyList<string> classes, string value)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
