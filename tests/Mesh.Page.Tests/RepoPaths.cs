namespace Mesh.Page.Tests;

internal static class RepoPaths
{
    /// <summary>The repository root (<see cref="TestRepository.Root"/>).</summary>
    public static string Root() => TestRepository.Root;

    /// <summary>Where test artifacts (the page screenshot) go: <c>artifacts/page</c>, gitignored, kept by CI.</summary>
    public static string Artifacts()
    {
        var dir = Path.Combine(Root(), "artifacts", "page");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
