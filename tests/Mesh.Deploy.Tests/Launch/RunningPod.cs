namespace Mesh.Deploy.Tests.Launch;

/// <summary>A service binary started from a <see cref="PodLaunch"/>, with its output kept for failure messages.</summary>
internal sealed class RunningPod : IDisposable
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly ServiceProcess _process;

    private RunningPod(PodLaunch launch, ServiceProcess process)
    {
        Launch = launch;
        _process = process;
    }

    public PodLaunch Launch { get; }

    public string Output => _process.Output;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the launch <paramref name="build"/> makes with local ports, once its host has bound them (or exited):
    /// a port another process took first means a new launch on new ports (see <see cref="ServiceProcess.StartHostAsync"/>).
    /// </summary>
    public static async Task<RunningPod> StartAsync(string name, Func<LoopbackPorts, PodLaunch> build, TimeSpan patience)
    {
        PodLaunch? launch = null;
        var process = await ServiceProcess.StartHostAsync(name, ports =>
        {
            launch = build(ports);
            var start = new ProcessStartInfo("dotnet")
            {
                // The image's working directory is /app, the folder of the binary.
                WorkingDirectory = launch.Pod.Service.OutputFolder,
            };
            foreach (var argument in launch.Arguments)
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var (key, value) in launch.Environment)
            {
                start.Environment[key] = value;
            }

            return start;
        }, patience);
        return new RunningPod(launch!, process);
    }

    /// <summary>Polls the probe's URL until it answers 200; false when the process exits or the bound passes first.</summary>
    public async Task<bool> WaitForAsync(string portName, string path, TimeSpan bound)
    {
        var url = Launch.LocalUrl(portName, path);
        var deadline = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < deadline && !HasExited)
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
        if (HasExited)
        {
            return true;
        }

        Libc.Terminate(_process.Id);
        return _process.WaitForExit(gracePeriod);
    }

    public void Dispose() => _process.KillAndWait();
}
