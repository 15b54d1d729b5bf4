using Mesh.Cli.Processes;

namespace Mesh.EndToEnd.Tests;

/// <summary>Where the repository and its build output are, from the test assembly's own location.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration this test was built in (services are built in the same one).</summary>
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

/// <summary>Starts a service from this configuration's build output (see <see cref="ServiceProcess"/>).</summary>
internal static class Services
{
    public static ServiceProcess Start(string folder, string assembly, IReadOnlyDictionary<string, string> settings) =>
        ServiceProcess.Start(folder, ServiceProcess.ServiceDll(Repository.Root, Repository.Configuration, folder, assembly), settings);
}
