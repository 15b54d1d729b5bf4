using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Mesh.Cli.Bench;

/// <summary>How long the probe's fixed unit of work took during a run: the median and 90th percentile of its units, in CPU microseconds.</summary>
internal sealed record SpeedSample(double MedianMicroseconds, double P90Microseconds, int Units);

/// <summary>
/// Measures how fast this machine is while a run is measured: a fixed unit of single-threaded integer arithmetic (a
/// dependency chain in registers, no memory traffic) four times a second, each unit timed in its own thread's CPU
/// time. Guest scheduling does not count (a thread waiting for a core uses no CPU time), but a virtual machine whose
/// host runs other guests on the same cores does: the guest sees no steal time, its threads simply take longer. On
/// the machine of 2026-12-02 a fixed single-threaded loop took 267–449 ms of CPU from one second to the next with
/// nothing else running, which the load average cannot show, and the same mesh's runs gave 15,000 to 48,000
/// records/s within minutes. Costs about 0.4 % of a core.
/// </summary>
internal sealed partial class SpeedProbe : IDisposable
{
    // About 1 ms of CPU per unit on the 2-core EPYC guest of 2026-12-02 (1,500,000 took 2.5 ms there).
    private const int Iterations = 600_000;
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(250);

    // Where each unit's result goes, so the JIT cannot drop the loop.
    private static ulong s_sink;

    private readonly List<double> _units = [];
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;

    private SpeedProbe()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "bench-speed-probe" };
        _thread.Start();
    }

    /// <summary>Starts probing on a thread of its own until <see cref="Stop"/>.</summary>
    public static SpeedProbe Start() => new();

    /// <summary>Stops probing and summarizes the units measured (at least one: a run shorter than the interval still gets its unit).</summary>
    public SpeedSample Stop()
    {
        _stop.Set();
        _thread.Join();
        lock (_units)
        {
            return Summarize(_units);
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }

    /// <summary>The median and 90th percentile (nearest rank) of unit times.</summary>
    internal static SpeedSample Summarize(IReadOnlyCollection<double> units)
    {
        var sorted = units.Order().ToArray();
        return sorted.Length == 0
            ? new SpeedSample(double.NaN, double.NaN, 0)
            : new SpeedSample(BenchReportFormatter.Median(sorted), sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * 0.9) - 1)], sorted.Length);
    }

    /// <summary>One unit, in this thread's CPU microseconds.</summary>
    internal static double MeasureUnit() => CpuMicrosecondsOf(static () =>
    {
        var x = 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < Iterations; i++)
        {
            // xorshift64: every step needs the one before, so the unit cannot be shortened or vectorized.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        s_sink = x;
    });

    /// <summary>The CPU time this thread spent in <paramref name="work"/>, in microseconds (wall time where the thread's CPU clock is not available).</summary>
    internal static double CpuMicrosecondsOf(Action work)
    {
        var started = ThreadCpuMicroseconds();
        var wall = Stopwatch.GetTimestamp();
        work();
        var ended = ThreadCpuMicroseconds();
        return started is { } s && ended is { } e ? e - s : Stopwatch.GetElapsedTime(wall).TotalMicroseconds;
    }

    private void Loop()
    {
        do
        {
            var unit = MeasureUnit();
            lock (_units)
            {
                _units.Add(unit);
            }
        }
        while (!_stop.Wait(s_interval));
    }

    private static double? ThreadCpuMicroseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time.
        return ClockGetTime(3, out var time) == 0 ? time.Seconds * 1e6 + time.Nanoseconds / 1e3 : null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
