namespace Mesh.Testing;

/// <summary>Where the repository and this test run's build are, from the test assembly's own location.</summary>
public static class TestRepository
{
    /// <summary>The repository root: the first folder above the test binaries that holds Mesh.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration the tests were built in (<c>bin/&lt;configuration&gt;/net10.0/</c>); services are built in the same one.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Mesh.sln not found above " + AppContext.BaseDirectory);
    }
}
