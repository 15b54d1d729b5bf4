using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Mesh.Cli.Processes;

/// <summary>
/// A Mesh service (or a server such as redis-server) started as a real process, its output kept for diagnosis, the
/// addresses it bound read back from that output, its CPU time and peak memory readable from <c>/proc</c>, stopped
/// the way Kubernetes stops it (SIGTERM, then SIGKILL).
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    /// <summary>How often a child is started again on new ports when another process took one first.</summary>
    public const int MaxStartAttempts = 5;

    private const string ListeningPrefix = "Now listening on: ";

    /// <summary>What Kestrel, redis-server and the broker print when the port they were given is taken.</summary>
    public const string BindFailure = "address already in use";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<Uri> _listening = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _readyLine;
    private int _released;

    private ServiceProcess(string name, Process process, string? readyLine)
    {
        Name = name;
        _process = process;
        _readyLine = readyLine;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>The addresses the service's host logged as bound ("Now listening on: ..."), in that order.</summary>
    public IReadOnlyList<Uri> ListeningUrls => [.. _listening];

    /// <summary>The one address a service started with <c>Urls=http://127.0.0.1:0</c> bound.</summary>
    public Uri Url => ListeningUrls is [var url]
        ? url
        : throw new InvalidOperationException($"{Name} logged {ListeningUrls.Count} bound addresses, not one:{Environment.NewLine}{Output}");

    /// <summary>Starts <paramref name="dll"/> with <c>dotnet</c>, the settings as environment variables.</summary>
    public static ServiceProcess Start(string name, string dll, IReadOnlyDictionary<string, string> settings) =>
        Launch(name, DotnetStart(name, dll, settings), readyLine: null);

    /// <summary>
    /// Starts a service from <paramref name="dll"/> and waits until its host has bound every endpoint ("Application
    /// started"), has exited, or <paramref name="patience"/> has passed. An endpoint on port 0 is read back from
    /// <see cref="ListeningUrls"/>; for ports the settings take from <see cref="LoopbackPorts"/>, see the overload.
    /// </summary>
    public static Task<ServiceProcess> StartBoundAsync(string name, string dll, Func<LoopbackPorts, IReadOnlyDictionary<string, string>> settings, TimeSpan patience) =>
        StartHostAsync(name, ports => DotnetStart(name, dll, settings(ports)), patience);

    /// <summary>
    /// As <see cref="StartBoundAsync(string, string, Func{LoopbackPorts, IReadOnlyDictionary{string, string}}, TimeSpan)"/>,
    /// for any .NET host started by <paramref name="start"/> (a rendered pod's command line, say).
    /// </summary>
    public static Task<ServiceProcess> StartHostAsync(string name, Func<LoopbackPorts, ProcessStartInfo> start, TimeSpan patience) =>
        StartBoundAsync(name, ports =>
        {
            var info = start(ports);
            // Off in the services' appsettings; these lines name the bound addresses and say when all are bound.
            info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
            return info;
        }, "Application started.", patience);

    /// <summary>
    /// Starts a child and waits until it prints <paramref name="readyLine"/>, exits, or <paramref name="patience"/>
    /// passes. A port picked free may be taken by another process before the child binds it: when the child exits
    /// saying "address already in use", it is started again with new <see cref="LoopbackPorts"/>, at most
    /// <see cref="MaxStartAttempts"/> times. Any other exit is the caller's to read (<see cref="ExitCode"/>).
    /// </summary>
    public static async Task<ServiceProcess> StartBoundAsync(string name, Func<LoopbackPorts, ProcessStartInfo> start, string readyLine, TimeSpan patience)
    {
        for (var attempt = 1; ; attempt++)
        {
            var child = Launch(name, start(new LoopbackPorts()), readyLine);
            using (var waited = new CancellationTokenSource(patience))
            {
                await Task.WhenAny(child._ready.Task, child._process.WaitForExitAsync(waited.Token)).ConfigureAwait(false);
            }

            if (!child.HasExited || attempt == MaxStartAttempts || !child.Output.Contains(BindFailure, StringComparison.OrdinalIgnoreCase))
            {
                return child;
            }

            await child.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static ProcessStartInfo DotnetStart(string name, string dll, IReadOnlyDictionary<string, string> settings)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{name} is not built: {dll}");
        }

        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private static ServiceProcess Launch(string name, ProcessStartInfo info, string? readyLine)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        return new ServiceProcess(name, Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name} ({info.FileName})"), readyLine);
    }

    /// <summary>Where a service's build output is: <c>services/&lt;folder&gt;/bin/&lt;configuration&gt;/net10.0/&lt;assembly&gt;.dll</c>.</summary>
    public static string ServiceDll(string repositoryRoot, string configuration, string folder, string assembly) =>
        Path.Combine(repositoryRoot, "services", folder, "bin", configuration, "net10.0", assembly + ".dll");

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; false when it is still running.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>Waits for the process to exit by itself (e.g. the producer when done).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>User plus system CPU time so far, from <c>/proc/&lt;pid&gt;/stat</c>.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            // Fields after the command name (which may contain spaces) start after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>Peak resident memory (VmHWM) in MiB, or 0 when the process is gone.</summary>
    public double PeakRssMiB() => ReadPeakRssMiB(_process.Id);

    public static double ReadPeakRssMiB(int pid) => ReadStatusMiB(pid, "VmHWM:");

    /// <summary>Resident memory now (VmRSS) in MiB, or 0 when the process is gone.</summary>
    public double RssMiB() => ReadStatusMiB(_process.Id, "VmRSS:");

    private static double ReadStatusMiB(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>SIGTERM (a graceful stop), then SIGKILL if it does not stop in time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Signal(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    /// <summary>Ends the process at once (SIGKILL), as a crash would.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Ends the process at once and releases it: a server whose state the caller throws away. A second call does nothing.</summary>
    public void KillAndWait()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        if (!_process.HasExited)
        {
            Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    /// <summary>Sends a POSIX signal (15 = SIGTERM) to a process.</summary>
    public static int Signal(int pid, int signal) => Kill(pid, signal);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        if (line.IndexOf(ListeningPrefix, StringComparison.Ordinal) is var at and >= 0)
        {
            // The address ends at a space or a quote (a JSON console line goes on after it).
            var address = line[(at + ListeningPrefix.Length)..];
            var end = address.AsSpan().IndexOfAny(" \"");
            if (Uri.TryCreate(end < 0 ? address : address[..end], UriKind.Absolute, out var url))
            {
                _listening.Enqueue(url);
            }
        }

        if (_readyLine is not null && line.Contains(_readyLine, StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }

        while (_output.Count > 2000 && _output.TryDequeue(out _))
        {
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
