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
    private static readonly TimeSpan s_bindPatience = TimeSpan.FromSeconds(90);

    public static ServiceProcess Start(string folder, string assembly, IReadOnlyDictionary<string, string> settings) =>
        ServiceProcess.Start(folder, Dll(folder, assembly), settings);

    /// <summary>Starts a service and waits until it has bound its ports or exited (see <see cref="ServiceProcess.StartBoundAsync(string, string, Func{LoopbackPorts, IReadOnlyDictionary{string, string}}, TimeSpan)"/>).</summary>
    public static Task<ServiceProcess> StartBoundAsync(string name, string folder, string assembly, Func<LoopbackPorts, IReadOnlyDictionary<string, string>> settings) =>
        ServiceProcess.StartBoundAsync(name, Dll(folder, assembly), settings, s_bindPatience);

    private static string Dll(string folder, string assembly) => ServiceProcess.ServiceDll(Repository.Root, Repository.Configuration, folder, assembly);
}
