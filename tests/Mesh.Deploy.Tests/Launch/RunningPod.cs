using System.Collections.Concurrent;
using System.Diagnostics;

namespace Mesh.Deploy.Tests.Launch;

/// <summary>A service binary started from a <see cref="PodLaunch"/>, with its output kept for failure messages.</summary>
internal sealed class RunningPod : IDisposable
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private RunningPod(PodLaunch launch)
    {
        Launch = launch;
        var start = new ProcessStartInfo("dotnet")
        {
            // The image's working directory is /app, the folder of the binary.
            WorkingDirectory = launch.Pod.Service.OutputFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in launch.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in launch.Environment)
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public PodLaunch Launch { get; }

    public string Output => string.Join(Environment.NewLine, _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static RunningPod Start(PodLaunch launch) => new(launch);

    /// <summary>Polls the probe's URL until it answers 200; false when the process exits or the bound passes first.</summary>
    public async Task<bool> WaitForAsync(string portName, string path, TimeSpan bound)
    {
        var url = Launch.LocalUrl(portName, path);
        var deadline = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (await StatusAsync(url) == 200)
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }

    public async Task<int> StatusAsync(string url)
    {
        try
        {
            using var response = await s_http.GetAsync(url);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>SIGTERM, as the kubelet stops a container; true when it exited within <paramref name="gracePeriod"/>.</summary>
    public bool Terminate(TimeSpan gracePeriod)
    {
        if (_process.HasExited)
        {
            return true;
        }

        Libc.Terminate(_process.Id);
        return _process.WaitForExit(gracePeriod);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
            while (_output.Count > 400 && _output.TryDequeue(out _))
            {
            }
        }
    }
}
