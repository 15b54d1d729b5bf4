namespace Mesh.Kafka;

/// <summary>Finds the cluster to talk to: configured servers first, else the embedded broker's published address.</summary>
public static class BootstrapResolver
{
    /// <summary>
    /// Returns <see cref="KafkaOptions.BootstrapServers"/> when set; otherwise waits up to
    /// <see cref="KafkaOptions.BootstrapWaitSeconds"/> for the embedded broker's file and returns its content.
    /// Throws with a message that names both settings when neither gives an address.
    /// </summary>
    public static string Resolve(KafkaOptions options, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            return options.BootstrapServers.Trim();
        }

        var deadline = DateTime.UtcNow.AddSeconds(options.BootstrapWaitSeconds);
        while (true)
        {
            var address = TryRead(options.BootstrapFile);
            if (address is not null)
            {
                return address;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException(
                    $"Kafka:BootstrapServers: not set, and the embedded broker's address file Kafka:BootstrapFile " +
                    $"('{options.BootstrapFile}') did not appear within {options.BootstrapWaitSeconds} s (Kafka:BootstrapWaitSeconds); " +
                    "expected Kafka:BootstrapServers (env Kafka__BootstrapServers) to name the cluster, or the embedded broker running ('mesh broker').");
            }

            cancellationToken.WaitHandle.WaitOne(200);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            var text = File.ReadAllText(path).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
