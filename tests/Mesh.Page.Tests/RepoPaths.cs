namespace Mesh.Page.Tests;

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

    /// <summary>Where test artifacts (the page screenshot) go: <c>artifacts/page</c>, gitignored, kept by CI.</summary>
    public static string Artifacts()
    {
        var dir = Path.Combine(Root(), "artifacts", "page");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
