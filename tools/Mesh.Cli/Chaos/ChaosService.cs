using Mesh.Cli.Processes;

namespace Mesh.Cli.Chaos;

/// <summary>
/// One service of the chaos run: started from its build output, SIGKILLed and started again with the very same
/// settings (the same ports and the same static-membership instance name, as a restarted pod would have). The ports
/// are picked at the first start, which starts again on new ones if another process took one first; the first port
/// picked is the service's HTTP port.
/// </summary>
internal sealed class ChaosService(string name, string dll, Func<LoopbackPorts, IReadOnlyDictionary<string, string>> settings, string logFile) : IAsyncDisposable
{
    private static readonly TimeSpan s_bindPatience = TimeSpan.FromSeconds(60);

    private ServiceProcess? _process;
    private IReadOnlyDictionary<string, string>? _settings;

    public string Name => name;

    public int HttpPort { get; private set; }

    public int Kills { get; private set; }

    public bool HasExited => _process?.HasExited ?? true;

    public int ExitCode => _process?.ExitCode ?? 0;

    public async Task StartAsync()
    {
        if (_settings is { } same)
        {
            // A restart keeps its ports, so there is nothing to pick again; and the killer's pace must not wait for it.
            _process = ServiceProcess.Start(name, dll, same);
            return;
        }

        _process = await ServiceProcess.StartBoundAsync(name, dll, ports =>
        {
            _settings = settings(ports);
            HttpPort = ports.Picked[0];
            return _settings;
        }, s_bindPatience).ConfigureAwait(false);
    }

    /// <summary>SIGKILL, as a crash or an OOM kill would, keeping what the process printed for diagnosis.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            Kills++;
            File.AppendAllText(logFile, process.Output + Environment.NewLine + $"===== SIGKILL by mesh chaos at {DateTimeOffset.UtcNow:O} =====" + Environment.NewLine);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout) =>
        _process is null ? 0 : await _process.WaitForExitAsync(timeout).ConfigureAwait(false);

    /// <summary>Waits until <c>/health</c> answers 200 (the service has its assignment and a broker connection).</summary>
    public async Task<bool> WaitHealthyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/health"), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>SIGTERM (then SIGKILL), and the last output appended to the service's log.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            await process.DisposeAsync().ConfigureAwait(false);
            File.AppendAllText(logFile, process.Output + Environment.NewLine);
        }
    }
}
