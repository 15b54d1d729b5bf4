namespace Mesh.Producer.Tests;

internal static class RepoPaths
{
    /// <summary>The repository root, found by walking up from the test binaries to Mesh.sln.</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mesh.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Mesh.sln not found above " + AppContext.BaseDirectory);
    }

    public static string IrisCsv => Path.Combine(Root(), "data", "iris.csv");
}
