using System.Globalization;
using System.Runtime.InteropServices;

namespace Mesh.Cli;

/// <summary>What the benchmarks say about the machine they ran on.</summary>
internal static class MachineInfo
{
    /// <summary>Cores, CPU model, memory, OS and .NET version, e.g. "2 cores (AMD EPYC), 24 GiB, Debian GNU/Linux 12 (bookworm), .NET 10.0.12".</summary>
    public static string Describe()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} cores ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), {memory:F0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }

    /// <summary>The 1, 5 and 15 minute load averages, or "unknown" off Linux.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1 / 5 / 15 min)" : "unknown";

    /// <summary>
    /// Whether other work holds a good part of the cores: the 1-minute load average above half of them. A benchmark
    /// says so beside its figures, since they are then low and spread wide.
    /// </summary>
    public static bool IsBusy()
    {
        if (!File.Exists("/proc/loadavg"))
        {
            return false;
        }

        var oneMinute = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        return oneMinute > Environment.ProcessorCount * 0.5;
    }
}
