using System.Collections.Concurrent;
using Confluent.Kafka;
using Mesh.Kafka.Health;
using Mesh.Kafka.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka;

/// <summary>
/// Builds Kafka clients from configuration: <c>Kafka:Producer</c> binds into <see cref="ProducerConfig"/>,
/// <c>Kafka:Consumer</c> into <see cref="ConsumerConfig"/>, over the mesh's defaults. The same code runs on
/// the embedded broker and on a real cluster; only configuration differs. Every client it builds reports to
/// <see cref="KafkaHealth"/>, which backs <c>/health</c>, and to <see cref="KafkaMetrics"/> (lag, rebalances and
/// librdkafka statistics on <c>/metrics</c>).
/// </summary>
public sealed class KafkaClientFactory(IOptions<KafkaOptions> options, IConfiguration configuration, ILoggerFactory loggerFactory, KafkaHealth health, KafkaMetrics metrics)
{
    /// <summary>librdkafka's default is 45 s: a killed member's partitions would sit idle that long.</summary>
    public const int DefaultSessionTimeoutMs = 10_000;

    // Per process, so two consumers of one group in one process (tests, side-by-side hosts) get distinct ids,
    // while a restarted process makes its consumers in the same order and reclaims the same ids.
    private static readonly ConcurrentDictionary<string, int> s_groupOrdinals = new(StringComparer.Ordinal);

    private readonly Lazy<string> _bootstrap = new(() => BootstrapResolver.Resolve(options.Value));

    /// <summary>A factory with its own <see cref="KafkaHealth"/> (not shown on <c>/health</c>).</summary>
    public KafkaClientFactory(IOptions<KafkaOptions> options, IConfiguration configuration, ILoggerFactory loggerFactory)
        : this(options, configuration, loggerFactory, new KafkaHealth(options, TimeProvider.System))
    {
    }

    /// <summary>A factory reporting to <paramref name="health"/>, with metrics no meter factory exports (tests, tools).</summary>
    public KafkaClientFactory(IOptions<KafkaOptions> options, IConfiguration configuration, ILoggerFactory loggerFactory, KafkaHealth health)
        : this(options, configuration, loggerFactory, health, KafkaMetrics.Detached())
    {
    }

    public KafkaOptions Options => options.Value;

    /// <summary>The resolved bootstrap servers.</summary>
    public string BootstrapServers => _bootstrap.Value;

    /// <summary>What the clients of this factory report about the cluster.</summary>
    public KafkaHealth Health => health;

    /// <summary>The figures the clients of this factory put on <c>/metrics</c>.</summary>
    public KafkaMetrics Metrics => metrics;

    /// <summary>
    /// Producer settings: idempotent, acks=all, lz4, a short linger so hot paths batch, delivery reports without
    /// the message's fields; configuration overrides.
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
            // The mesh's delivery handlers read a report's error, topic and offset only; by default the client copies
            // every output's headers (a Header and an array each), timestamp and status back into new objects.
            DeliveryReportFields = "none",
        };
        configuration.GetSection($"{KafkaOptions.SectionName}:Producer").Bind(config);
        return config;
    }

    /// <summary>
    /// Consumer settings for at-least-once: auto-commit on, auto offset store off (offsets are stored only after
    /// the output is acknowledged), cooperative-sticky assignment, earliest reset, a 10 s session and a static
    /// <c>group.instance.id</c> (see <see cref="StaticMembershipOptions"/>); <c>Kafka:Consumer</c> overrides.
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
            SessionTimeoutMs = DefaultSessionTimeoutMs,
        };
        var membership = options.Value.StaticMembership;
        if (membership.Enabled)
        {
            var instance = GroupInstanceId.ResolveInstanceName(membership.InstanceName, Environment.GetEnvironmentVariable, Environment.ProcessId);
            var ordinal = s_groupOrdinals.AddOrUpdate(groupId, 0, (_, n) => n + 1);
            config.GroupInstanceId = GroupInstanceId.Create(groupId, instance, ordinal);
        }

        configuration.GetSection($"{KafkaOptions.SectionName}:Consumer").Bind(config);
        return config;
    }

    /// <summary>A byte-valued producer that logs client errors and treats fatal ones as fatal.</summary>
    public IProducer<byte[], byte[]> CreateProducer(string clientId, Action<Error>? onFatal = null) =>
        CreateProducer(CreateProducerConfig(clientId), onFatal);

    /// <summary>
    /// A byte-valued producer from settings the caller adjusted (e.g. a transactional id), with the same error
    /// handling and health reporting as <see cref="CreateProducer(string, Action{Error}?)"/>.
    /// </summary>
    public IProducer<byte[], byte[]> CreateProducer(ProducerConfig config, Action<Error>? onFatal = null)
    {
        var logger = loggerFactory.CreateLogger("Mesh.Kafka.Producer");
        var tracker = health.Register($"producer {config.ClientId}", isConsumer: false);
        var figures = metrics.Register(config.ClientId ?? "", groupId: null);
        config.StatisticsIntervalMs ??= options.Value.Health.StatisticsIntervalMs;
        return new ProducerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, error) => OnError(logger, tracker, error, onFatal))
            .SetLogHandler((_, message) => KafkaLog.OnLog(logger, message, tracker))
            .SetStatisticsHandler((_, json) =>
            {
                tracker.OnStatistics(json);
                figures.OnStatistics(json);
            })
            .Build();
    }

    /// <summary>A byte-valued consumer with rebalance logging; the caller subscribes it.</summary>
    public IConsumer<byte[], byte[]> CreateConsumer(
        string groupId,
        string clientId,
        Action<Error>? onFatal = null,
        Action<IConsumer<byte[], byte[]>, List<TopicPartitionOffset>>? onRevoked = null,
        Action<IConsumer<byte[], byte[]>, List<TopicPartitionOffset>>? onLost = null) =>
        CreateConsumer(CreateConsumerConfig(groupId, clientId), new ConsumerHandlers(onFatal, OnRevoked: onRevoked, OnLost: onLost));

    /// <summary>
    /// A byte-valued consumer from settings the caller adjusted (e.g. auto-commit off), with rebalance logging and
    /// health reporting; <paramref name="handlers"/> run after the factory's own. The caller subscribes it.
    /// </summary>
    public IConsumer<byte[], byte[]> CreateConsumer(ConsumerConfig config, ConsumerHandlers handlers)
    {
        var logger = loggerFactory.CreateLogger("Mesh.Kafka.Consumer");
        var tracker = health.Register($"consumer {config.ClientId} of group {config.GroupId}", isConsumer: true);
        var figures = metrics.Register(config.ClientId ?? "", config.GroupId ?? "");
        config.StatisticsIntervalMs ??= options.Value.Health.StatisticsIntervalMs;
        return new ConsumerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, error) => OnError(logger, tracker, error, handlers.OnFatal))
            .SetLogHandler((_, message) => KafkaLog.OnLog(logger, message, tracker))
            .SetStatisticsHandler((_, json) =>
            {
                tracker.OnStatistics(json);
                figures.OnStatistics(json);
            })
            .SetPartitionsAssignedHandler((consumer, partitions) =>
            {
                logger.LogInformation("Assigned {Partitions}", string.Join(", ", partitions));
                tracker.OnAssigned();
                metrics.OnRebalance(figures, "assigned");
                handlers.OnAssigned?.Invoke(consumer, partitions);
            })
            .SetPartitionsRevokedHandler((consumer, partitions) =>
            {
                logger.LogInformation("Revoked {Partitions}", string.Join(", ", partitions));
                metrics.OnRebalance(figures, "revoked");
                handlers.OnRevoked?.Invoke(consumer, partitions);
            })
            .SetPartitionsLostHandler((consumer, partitions) =>
            {
                logger.LogWarning("Lost {Partitions}", string.Join(", ", partitions));
                tracker.OnLost();
                metrics.OnRebalance(figures, "lost");
                handlers.OnLost?.Invoke(consumer, partitions);
            })
            .Build();
    }

    // librdkafka reports every failed reconnect; one line per outage is enough, the rest goes to debug.
    private static void OnError(ILogger logger, KafkaClientHealth tracker, Error error, Action<Error>? onFatal)
    {
        if (tracker.OnError(error))
        {
            KafkaLog.OnError(logger, error, onFatal);
        }
        else
        {
            KafkaLog.OnRepeatedError(logger, error);
        }
    }
}
