using System.Globalization;

namespace Mesh.Cli.Tests;

/// <summary>The repository's <c>data/iris.csv</c>, found by walking up from the test binaries.</summary>
internal static class IrisData
{
    public static string CsvPath { get; } = Find();

    /// <summary>Row-major features (N x 4) and the species of each row.</summary>
    public static (float[] Features, string[] Species) Load()
    {
        var lines = File.ReadAllLines(CsvPath).Skip(1).Where(l => !string.IsNullOrWhiteSpace(l)).ToArray();
        var features = new float[lines.Length * 4];
        var species = new string[lines.Length];
        for (var row = 0; row < lines.Length; row++)
        {
            var fields = lines[row].Split(',');
            for (var i = 0; i < 4; i++)
            {
                features[row * 4 + i] = float.Parse(fields[i], CultureInfo.InvariantCulture);
            }

            species[row] = fields[4];
        }

        return (features, species);
    }

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "data", "iris.csv");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("data/iris.csv not found above " + AppContext.BaseDirectory);
    }
}
