namespace Mesh.Cli;

/// <summary>Finds the repository root above the current folder.</summary>
internal static class RepositoryRoot
{
    /// <summary>What to tell a user who ran a repository-bound command elsewhere.</summary>
    public const string NotFoundMessage = "Run this from inside the Mesh repository (no Mesh.sln found above the current folder).";

    public static string Find() => TryFind() ?? throw new InvalidOperationException(NotFoundMessage);

    public static string? TryFind()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
