namespace Mesh.EndToEnd.Tests;

/// <summary>Runs the `mesh` command from this configuration's build output, as a user would, and keeps its output.</summary>
internal static class MeshCommand
{
    public static Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] arguments) =>
        RunAsync(timeout, new Dictionary<string, string>(), arguments);

    /// <summary>Runs the command and asserts it exited with <paramref name="exitCode"/>, its output saying <paramref name="says"/>.</summary>
    public static async Task AssertExitsSayingAsync(TimeSpan timeout, int exitCode, string says, params string[] arguments)
    {
        var (exit, output) = await RunAsync(timeout, arguments);

        Assert.Equal(exitCode, exit);
        Assert.Contains(says, output, StringComparison.Ordinal);
    }

    /// <summary>As above, with <paramref name="environment"/> added to this process's environment (an empty value removes the variable).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] arguments)
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

        foreach (var (key, value) in environment)
        {
            // Empty means unset: a test that must not inherit a variable from the shell says so.
            if (value.Length == 0)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        using var mesh = Process.Start(info)!;
        var stdout = mesh.StandardOutput.ReadToEndAsync();
        var stderr = mesh.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await mesh.WaitForExitAsync(cts.Token);
        return (mesh.ExitCode, await stdout + await stderr);
    }
}
