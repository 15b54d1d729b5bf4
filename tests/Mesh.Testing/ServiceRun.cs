namespace Mesh.Testing;

/// <summary>Runs a service's own build output as a process, the way an operator starts it, until it exits by itself.</summary>
public static class ServiceRun
{
    /// <summary>
    /// Runs <c>services/&lt;folder&gt;/bin/&lt;configuration&gt;/net10.0/&lt;assembly&gt;.dll</c> (built with the test
    /// project that references it) with <paramref name="settings"/> as <c>--Key=value</c> arguments.
    /// </summary>
    public static Task<(int ExitCode, string Output, string Error)> UntilExitAsync(string folder, string assembly, IReadOnlyDictionary<string, string> settings, TimeSpan timeout)
    {
        var dll = Path.Combine(TestRepository.Root, "services", folder, "bin", TestRepository.Configuration, "net10.0", assembly + ".dll");
        return ExternalProcess.RunAsync("dotnet", [dll, .. settings.Select(s => $"--{s.Key}={s.Value}")], timeout);
    }
}
