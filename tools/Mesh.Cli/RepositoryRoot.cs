namespace Mesh.Cli;

/// <summary>Finds the repository root above the current folder.</summary>
internal static class RepositoryRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run this from inside the Mesh repository (no Mesh.sln found above the current folder).");
    }
}
