namespace Mesh.Producer.Tests;

internal static class RepoPaths
{
    /// <summary>The repository root (<see cref="TestRepository.Root"/>).</summary>
    public static string Root() => TestRepository.Root;

    public static string IrisCsv => Path.Combine(Root(), "data", "iris.csv");
}
