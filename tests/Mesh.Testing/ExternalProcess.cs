using System.Diagnostics;

namespace Mesh.Testing;

/// <summary>Runs a program the tests did not write (protoc, Debian's Python clients) and collects what it printed.</summary>
public static class ExternalProcess
{
    /// <summary>Debian installs its Python packages for the system interpreter, not for a pyenv python3 first on PATH.</summary>
    public static string Python => Environment.GetEnvironmentVariable("MESH_PYTHON") is { Length: > 0 } python ? python : "/usr/bin/python3";

    /// <summary>The exit code and output of the program; -1 and a note on standard error when it outlives <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + file);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
            return (-1, await output.ConfigureAwait(false), $"{file} did not finish within {timeout}: " + await error.ConfigureAwait(false));
        }

        return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }
}
