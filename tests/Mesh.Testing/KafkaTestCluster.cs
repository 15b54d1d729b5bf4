using System.Net.Sockets;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mesh.EmbeddedBroker;
using Testcontainers.Kafka;
using Xunit;

namespace Mesh.Testing;

/// <summary>
/// The Kafka cluster tests run against, chosen as docs/architecture.md says: <c>KAFKA_BOOTSTRAP_SERVERS</c> (a real
/// cluster) first, then Testcontainers.Kafka where a Docker engine answers, else the embedded broker.
/// Use one per test class (<c>IClassFixture</c>) and <see cref="UniqueTopic"/> per test.
/// </summary>
public sealed class KafkaTestCluster : IAsyncLifetime
{
    private EmbeddedKafkaBroker? _embedded;
    private KafkaContainer? _container;

    public string BootstrapServers { get; private set; } = "";

    /// <summary>"external", "testcontainers" or "embedded".</summary>
    public string Kind { get; private set; } = "";

    public bool IsEmbedded => _embedded is not null;

    public EmbeddedKafkaBroker? Embedded => _embedded;

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS");
        if (!string.IsNullOrWhiteSpace(external))
        {
            BootstrapServers = external;
            Kind = "external";
            return;
        }

        if (DockerEngineAnswers())
        {
            _container = new KafkaBuilder("confluentinc/cp-kafka:7.6.1").Build();
            await _container.StartAsync();
            BootstrapServers = _container.GetBootstrapAddress();
            Kind = "testcontainers";
            return;
        }

        _embedded = EmbeddedKafkaBroker.Start();
        BootstrapServers = _embedded.BootstrapServers;
        Kind = "embedded";
    }

    public async Task DisposeAsync()
    {
        _embedded?.Dispose();
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    /// <summary>A topic name no other test uses.</summary>
    public static string UniqueTopic(string prefix) => $"{prefix}.{Guid.NewGuid():N}";

    /// <summary>Creates topics: in the embedded broker directly (the mock has no CreateTopics), else through the admin API.</summary>
    public async Task CreateTopicsAsync(int partitions, params string[] names)
    {
        if (_embedded is not null)
        {
            foreach (var name in names)
            {
                _embedded.CreateTopic(name, partitions);
            }

            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        try
        {
            await admin.CreateTopicsAsync(names.Select(n => new TopicSpecification { Name = n, NumPartitions = partitions, ReplicationFactor = 1 }));
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
        }
    }

    /// <summary>Reads every record of a topic until <paramref name="expected"/> arrived or <paramref name="timeout"/> passed.</summary>
    public List<ConsumeResult<byte[], byte[]>> ReadAll(string topic, int expected, TimeSpan timeout, IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            IsolationLevel = isolation,
        }).Build();
        consumer.Subscribe(topic);
        var records = new List<ConsumeResult<byte[], byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (records.Count < expected && DateTime.UtcNow < deadline)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (record is not null && !record.IsPartitionEOF)
            {
                records.Add(record);
            }
        }

        consumer.Close();
        return records;
    }

    private static bool DockerEngineAnswers()
    {
        const string Socket = "/var/run/docker.sock";
        if (!File.Exists(Socket))
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(Socket));
            socket.Send("GET /_ping HTTP/1.0\r\n\r\n"u8);
            var buffer = new byte[256];
            socket.ReceiveTimeout = 2000;
            var read = socket.Receive(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains(" 200 ", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
