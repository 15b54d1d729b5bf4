namespace Mesh.Kafka.Tests;

/// <summary>The shared factory as a service gets it, and a consume loop that waits for a condition.</summary>
internal static class SharedClients
{
    /// <summary>How long a test waits for the cluster to reach a state before it fails (generous: 2 shared cores).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>A factory on <paramref name="bootstrap"/> whose clients report statistics every 200 ms.</summary>
    public static KafkaClientFactory Factory(string bootstrap, int unhealthyAfterSeconds = 0)
    {
        var options = Options.Create(new KafkaOptions
        {
            BootstrapServers = bootstrap,
            Health = new KafkaHealthOptions { UnhealthyAfterSeconds = unhealthyAfterSeconds, StatisticsIntervalMs = 200 },
        });
        return new KafkaClientFactory(options, new ConfigurationBuilder().Build(), NullLoggerFactory.Instance, new KafkaHealth(options, TimeProvider.System));
    }

    /// <summary>
    /// Polls every consumer (their callbacks, statistics and rebalances, run inside Consume, as in a service's
    /// consume loop), handing each record to <paramref name="onRecord"/>, until the condition holds; false when
    /// patience ran out.
    /// </summary>
    public static bool PollUntil(IReadOnlyList<IConsumer<byte[], byte[]>> consumers, Func<bool> condition, Action<IConsumer<byte[], byte[]>, ConsumeResult<byte[], byte[]>>? onRecord = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var consumer in consumers)
            {
                if (consumer.ConsumeNext(TimeSpan.FromMilliseconds(100), NullLogger.Instance) is { } record)
                {
                    onRecord?.Invoke(consumer, record);
                }
            }

            if (condition())
            {
                return true;
            }
        }

        return false;
    }
}
