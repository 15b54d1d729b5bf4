using Mesh.Cli.Processes;

namespace Mesh.Cli.Demo;

/// <summary>
/// Finds, in a demo run's logs, the line of a process that could not bind its port. The AppHost must name every
/// service's port before it starts any (Aspire's endpoints, the router's experiment file, the dashboard's links), so
/// it picks free ports rather than binding port 0; another process can take one in between. The demo then starts
/// the AppHost again, which picks new ports, instead of waiting out its start-up budget.
/// </summary>
internal static class PortConflict
{
    /// <summary>The first log line in <paramref name="files"/> that says an address was in use, or null.</summary>
    public static string? Find(IEnumerable<string> files)
    {
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                continue;
            }

            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                while (reader.ReadLine() is { } line)
                {
                    if (line.Contains(ServiceProcess.BindFailure, StringComparison.OrdinalIgnoreCase))
                    {
                        return $"{Path.GetFileName(file)}: {line.Trim()}";
                    }
                }
            }
            catch (IOException)
            {
                // Being rotated or deleted by the AppHost's next start: read again at the next look.
            }
        }

        return null;
    }

    /// <summary>The AppHost's own log and every service's log of the run folder.</summary>
    public static IEnumerable<string> RunLogs(string runDir)
    {
        yield return Path.Combine(runDir, "apphost.log");
        var services = Path.Combine(runDir, "logs");
        if (Directory.Exists(services))
        {
            foreach (var file in Directory.EnumerateFiles(services, "*.log"))
            {
                yield return file;
            }
        }
    }
}
