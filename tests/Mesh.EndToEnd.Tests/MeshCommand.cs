using System.Diagnostics;

namespace Mesh.EndToEnd.Tests;

/// <summary>Runs the `mesh` command from this configuration's build output, as a user would, and keeps its output.</summary>
internal static class MeshCommand
{
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Path.Combine(Repository.Root, "tools", "Mesh.Cli", "bin", Repository.Configuration, "net10.0", "mesh.dll"));
        foreach (var argument in arguments.Concat(["--configuration", Repository.Configuration]))
        {
            info.ArgumentList.Add(argument);
        }

        using var mesh = Process.Start(info)!;
        var stdout = mesh.StandardOutput.ReadToEndAsync();
        var stderr = mesh.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await mesh.WaitForExitAsync(cts.Token);
        return (mesh.ExitCode, await stdout + await stderr);
    }
}
