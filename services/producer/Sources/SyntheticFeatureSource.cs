using Mesh.Producer.Csv;

namespace Mesh.Producer.Sources;

/// <summary>
/// Iris-shaped rows without a file: three classes around the real species' means, with seeded Gaussian noise,
/// so the demo models answer them sensibly and a run can be repeated.
/// </summary>
internal static class SyntheticFeatureSource
{
    private static readonly string[] s_names = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    public static IReadOnlyList<string> FeatureNames => s_names;

    private static readonly (string Label, float[] Mean, float[] Spread)[] s_classes =
    [
        ("setosa", [5.01f, 3.43f, 1.46f, 0.25f], [0.35f, 0.38f, 0.17f, 0.11f]),
        ("versicolor", [5.94f, 2.77f, 4.26f, 1.33f], [0.52f, 0.31f, 0.47f, 0.20f]),
        ("virginica", [6.59f, 2.97f, 5.55f, 2.03f], [0.64f, 0.32f, 0.55f, 0.27f]),
    ];

    public static FeatureTable Generate(int rows, int seed)
    {
        var random = new Random(seed);
        var result = new List<FeatureRow>(rows);
        for (var n = 0; n < rows; n++)
        {
            var (label, mean, spread) = s_classes[random.Next(s_classes.Length)];
            var values = new float[mean.Length];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = MathF.Max(0.1f, mean[i] + (spread[i] * Gaussian(random)));
            }

            result.Add(new FeatureRow(n + 1, values, label));
        }

        return new FeatureTable("synthetic", s_names, result, []);
    }

    // Box–Muller: two uniforms make one standard normal sample.
    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
