using Confluent.Kafka;

namespace Mesh.Cli.Broker;

/// <summary>
/// Warns on standard error when a consumer group falls far enough behind that the embedded broker's bounded
/// log (it drops the oldest message sets of a partition beyond about 5 MB) may drop records it has not read.
/// The mock broker has no ListGroups, so the groups to watch are named.
/// </summary>
internal sealed class LagWatch : IDisposable
{
    /// <summary>What librdkafka's mock keeps per partition before dropping the oldest message sets.</summary>
    public const long RetainedBytesPerPartition = 5L * 1024 * 1024;

    private readonly IReadOnlyList<string> _topics;
    private readonly long _warnMessages;
    private readonly TextWriter _error;
    private readonly List<(string Group, IConsumer<byte[], byte[]> Client)> _clients = [];
    private readonly IAdminClient _admin;
    private readonly Dictionary<(string Group, TopicPartition Partition), LagObservation> _previous = [];

    public LagWatch(string bootstrapServers, IReadOnlyList<string> groups, IReadOnlyList<string> topics, long warnMessages, TextWriter error)
    {
        _topics = topics;
        _warnMessages = warnMessages;
        _error = error;
        _admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        foreach (var group in groups)
        {
            // Not subscribed: the client only reads the group's committed offsets (OffsetFetch), never joins it.
            var client = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = group,
                EnableAutoCommit = false,
            }).SetLogHandler((_, _) => { }).Build();
            _clients.Add((group, client));
        }
    }

    /// <summary>Checks every watched group once; returns the warnings written.</summary>
    public IReadOnlyList<string> Check()
    {
        var warnings = new List<string>();
        List<TopicPartition> partitions;
        try
        {
            var metadata = _admin.GetMetadata(TimeSpan.FromSeconds(2));
            partitions = metadata.Topics
                .Where(t => _topics.Contains(t.Topic) && t.Error.Code == ErrorCode.NoError)
                .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)))
                .ToList();
        }
        catch (KafkaException)
        {
            return warnings;
        }

        foreach (var (group, client) in _clients)
        {
            List<TopicPartitionOffset> committed;
            try
            {
                committed = client.Committed(partitions, TimeSpan.FromSeconds(2));
            }
            catch (KafkaException)
            {
                continue;
            }

            foreach (var position in committed.Where(c => c.Offset.Value >= 0))
            {
                var marks = client.QueryWatermarkOffsets(position.TopicPartition, TimeSpan.FromSeconds(2));
                var key = (group, position.TopicPartition);
                var observation = new LagObservation(position.Offset.Value, marks.Low.Value);
                var warning = Assess(group, position.TopicPartition, observation.Committed, observation.Low, marks.High.Value, _warnMessages, _previous.GetValueOrDefault(key));
                _previous[key] = observation;
                if (warning is not null)
                {
                    warnings.Add(warning);
                    _error.WriteLine(warning);
                }
            }
        }

        return warnings;
    }

    /// <summary>
    /// The lag rule. A committed offset below the log start is not yet a loss: commits trail reading (by the
    /// auto-commit interval), so the group may have read those records already; it is reported as committed lag.
    /// It is a loss when the previous check (<paramref name="previous"/>) already saw the commit below the log start
    /// and the commit has still not passed that log start: those records were gone before the group got past them.
    /// Otherwise a warning when the lag exceeds <paramref name="warnMessages"/> or 80% of what the partition retains.
    /// </summary>
    public static string? Assess(string group, TopicPartition partition, long committed, long low, long high, long warnMessages, LagObservation? previous = null)
    {
        var lag = high - committed;
        if (previous is { } before && before.Committed < before.Low && committed < before.Low)
        {
            return $"warning: consumer group '{group}' lost records on {partition}: its committed offset stayed below the " +
                $"embedded broker's log start (now {committed} < {before.Low}) across two checks ({before.Low - committed} records dropped before they were read).";
        }

        if (committed < low)
        {
            return $"warning: consumer group '{group}' has committed lag on {partition}: committed offset {committed} is below the " +
                $"embedded broker's log start {low}; records it read but has not committed yet are safe, the next check tells whether any were dropped unread.";
        }

        var retained = high - low;
        var nearWrap = low > 0 && retained > 0 && lag >= retained * 8 / 10;
        if (lag >= warnMessages || nearWrap)
        {
            return $"warning: consumer group '{group}' lags {lag} records on {partition}; the embedded broker keeps only " +
                $"about {RetainedBytesPerPartition / (1024 * 1024)} MB per partition (now offsets {low}..{high}) and drops older records. " +
                "Scale the consumer or lower the producer rate.";
        }

        return null;
    }

    public void Dispose()
    {
        foreach (var (_, client) in _clients)
        {
            client.Dispose();
        }

        _admin.Dispose();
    }
}
