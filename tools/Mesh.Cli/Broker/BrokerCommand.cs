using Mesh.EmbeddedBroker;
using Mesh.Kafka;

namespace Mesh.Cli.Broker;

/// <summary>
/// `mesh broker`: runs the embedded Kafka-protocol broker until SIGTERM or Ctrl-C, with the mesh topics
/// created, its address printed and written where the services look for it, and a lag watch. With
/// <c>--port</c> it listens on fixed ports, so services keep their address across a broker restart.
/// </summary>
internal static class BrokerCommand
{
    public static async Task<int> RunAsync(BrokerSettings settings, CancellationToken cancellationToken)
    {
        using var broker = EmbeddedKafkaBroker.Start(settings.Brokers, settings.Port);
        foreach (var topic in settings.Topics)
        {
            broker.CreateTopic(topic, settings.Partitions);
        }

        WriteAtomically(settings.BootstrapFile, broker.BootstrapServers);
        Console.WriteLine($"bootstrap.servers={broker.BootstrapServers}");
        Console.WriteLine($"Embedded Kafka-protocol broker up: {settings.Brokers} broker(s), topics {string.Join(", ", settings.Topics)} " +
            $"with {settings.Partitions} partition(s); address written to {settings.BootstrapFile}. In memory only: " +
            $"each partition keeps about {LagWatch.RetainedBytesPerPartition / (1024 * 1024)} MB. Stop with Ctrl-C or SIGTERM.");

        using var watch = new LagWatch(broker.BootstrapServers, settings.WatchGroups, settings.Topics, settings.LagWarnMessages, Console.Error);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(settings.LagCheckSeconds), cancellationToken).ConfigureAwait(false);
                watch.Check();
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            DeleteIfOurs(settings.BootstrapFile, broker.BootstrapServers);
            Console.WriteLine("Embedded broker stopped.");
        }

        return 0;
    }

    private static void WriteAtomically(string path, string content)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, content + Environment.NewLine);
        File.Move(temp, path, overwrite: true);
    }

    // Another broker may have replaced the file since; only remove our own address.
    private static void DeleteIfOurs(string path, string address)
    {
        try
        {
            if (File.Exists(path) && File.ReadAllText(path).Trim() == address)
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
    }
}

internal sealed record BrokerSettings(
    int Partitions,
    int Brokers,
    string BootstrapFile,
    IReadOnlyList<string> Topics,
    IReadOnlyList<string> WatchGroups,
    long LagWarnMessages,
    int LagCheckSeconds,
    int? Port = null);
