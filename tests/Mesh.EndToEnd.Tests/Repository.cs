using Mesh.Cli.Processes;
using Mesh.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>Where the repository and its build output are, from the test assembly's own location.</summary>
internal static class Repository
{
    public static string Root => TestRepository.Root;

    /// <summary>The configuration this test was built in (services are built in the same one).</summary>
    public static string Configuration => TestRepository.Configuration;
}

/// <summary>Starts a service from this configuration's build output (see <see cref="ServiceProcess"/>).</summary>
internal static class Services
{
    public static ServiceProcess Start(string folder, string assembly, IReadOnlyDictionary<string, string> settings) =>
        ServiceProcess.Start(folder, ServiceProcess.ServiceDll(Repository.Root, Repository.Configuration, folder, assembly), settings);
}
