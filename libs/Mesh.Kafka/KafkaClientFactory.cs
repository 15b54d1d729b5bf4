using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka;

/// <summary>
/// Builds Kafka clients from configuration: <c>Kafka:Producer</c> binds into <see cref="ProducerConfig"/>,
/// <c>Kafka:Consumer</c> into <see cref="ConsumerConfig"/>, over the mesh's defaults. The same code runs on
/// the embedded broker and on a real cluster; only configuration differs.
/// </summary>
public sealed class KafkaClientFactory(IOptions<KafkaOptions> options, IConfiguration configuration, ILoggerFactory loggerFactory)
{
    private readonly Lazy<string> _bootstrap = new(() => BootstrapResolver.Resolve(options.Value));

    public KafkaOptions Options => options.Value;

    /// <summary>The resolved bootstrap servers.</summary>
    public string BootstrapServers => _bootstrap.Value;

    /// <summary>
    /// Producer settings: idempotent, acks=all, lz4, a short linger so hot paths batch; configuration overrides.
    /// </summary>
    public ProducerConfig CreateProducerConfig(string clientId)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            ClientId = clientId,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 1,
            BatchNumMessages = 10_000,
            CompressionType = CompressionType.Lz4,
            SocketNagleDisable = true,
        };
        configuration.GetSection($"{KafkaOptions.SectionName}:Producer").Bind(config);
        return config;
    }

    /// <summary>
    /// Consumer settings for at-least-once: auto-commit on, auto offset store off (offsets are stored only after
    /// the output is acknowledged), cooperative-sticky assignment, earliest reset; configuration overrides.
    /// </summary>
    public ConsumerConfig CreateConsumerConfig(string groupId, string clientId)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = groupId,
            ClientId = clientId,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 1000,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            FetchWaitMaxMs = 10,
            SocketNagleDisable = true,
        };
        configuration.GetSection($"{KafkaOptions.SectionName}:Consumer").Bind(config);
        return config;
    }

    /// <summary>A byte-valued producer that logs client errors and treats fatal ones as fatal.</summary>
    public IProducer<byte[], byte[]> CreateProducer(string clientId, Action<Error>? onFatal = null)
    {
        var logger = loggerFactory.CreateLogger("Mesh.Kafka.Producer");
        return new ProducerBuilder<byte[], byte[]>(CreateProducerConfig(clientId))
            .SetErrorHandler((_, error) => KafkaLog.OnError(logger, error, onFatal))
            .SetLogHandler((_, message) => KafkaLog.OnLog(logger, message))
            .Build();
    }

    /// <summary>A byte-valued consumer with rebalance logging; the caller subscribes it.</summary>
    public IConsumer<byte[], byte[]> CreateConsumer(
        string groupId,
        string clientId,
        Action<Error>? onFatal = null,
        Action<IConsumer<byte[], byte[]>, List<TopicPartitionOffset>>? onRevoked = null,
        Action<IConsumer<byte[], byte[]>, List<TopicPartitionOffset>>? onLost = null)
    {
        var logger = loggerFactory.CreateLogger("Mesh.Kafka.Consumer");
        var builder = new ConsumerBuilder<byte[], byte[]>(CreateConsumerConfig(groupId, clientId))
            .SetErrorHandler((_, error) => KafkaLog.OnError(logger, error, onFatal))
            .SetLogHandler((_, message) => KafkaLog.OnLog(logger, message))
            .SetPartitionsAssignedHandler((_, partitions) =>
                logger.LogInformation("Assigned {Partitions}", string.Join(", ", partitions)))
            .SetPartitionsRevokedHandler((consumer, partitions) =>
            {
                logger.LogInformation("Revoked {Partitions}", string.Join(", ", partitions));
                onRevoked?.Invoke(consumer, partitions);
            })
            .SetPartitionsLostHandler((consumer, partitions) =>
            {
                logger.LogWarning("Lost {Partitions}", string.Join(", ", partitions));
                onLost?.Invoke(consumer, partitions);
            });
        return builder.Build();
    }
}

internal static partial class KafkaLog
{
    public static void OnError(ILogger logger, Error error, Action<Error>? onFatal)
    {
        if (error.IsFatal)
        {
            Fatal(logger, error.Code, error.Reason);
            onFatal?.Invoke(error);
        }
        else
        {
            // Transient errors (a broker restarting, a timeout) are retried by librdkafka itself.
            Transient(logger, error.Code, error.Reason);
        }
    }

    public static void OnLog(ILogger logger, LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        Librdkafka(logger, level, message.Facility, message.Message);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Critical, Message = "Fatal Kafka error {Code}: {Reason}")]
    private static partial void Fatal(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Kafka error {Code}: {Reason}")]
    private static partial void Transient(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 3, Message = "librdkafka {Facility}: {Text}")]
    private static partial void Librdkafka(ILogger logger, LogLevel level, string facility, string text);
}
