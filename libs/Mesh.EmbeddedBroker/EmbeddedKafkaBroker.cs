using System.Net;
using System.Runtime.InteropServices;

namespace Mesh.EmbeddedBroker;

/// <summary>
/// An in-memory, Kafka-protocol broker on 127.0.0.1, built on librdkafka's mock cluster. For one machine
/// and for tests: it keeps a bounded log per partition (about 5 MB or 100,000 message sets), so consumers
/// that lag further than that lose data. Clients in other processes connect through <see cref="BootstrapServers"/>.
/// </summary>
public sealed class EmbeddedKafkaBroker : IDisposable
{
    private readonly object _gate = new();
    private readonly IReadOnlyList<TcpForwarder> _forwarders;
    private IntPtr _handle;
    private IntPtr _cluster;

    private EmbeddedKafkaBroker(IntPtr handle, IntPtr cluster, int brokerCount, int? firstPort)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokerCount;
        var own = Marshal.PtrToStringUTF8(NativeMock.rd_kafka_mock_cluster_bootstraps(cluster))
            ?? throw new InvalidOperationException("The mock cluster returned no bootstrap address.");
        _forwarders = firstPort is { } port ? Forward(cluster, own, port) : [];
        BootstrapServers = _forwarders.Count == 0 ? own : string.Join(",", _forwarders.Select(f => $"127.0.0.1:{f.Port}"));
    }

    /// <summary>The comma-separated <c>host:port</c> list clients use as <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of brokers in the cluster (ids 1..N).</summary>
    public int BrokerCount { get; }

    /// <summary>
    /// Starts a mock cluster with <paramref name="brokerCount"/> brokers, a controller (so admin metadata
    /// calls work) and no initial rebalance delay (so a new consumer group reads at once).
    /// </summary>
    public static EmbeddedKafkaBroker Start(int brokerCount = 1) => Start(brokerCount, firstPort: null);

    /// <summary>
    /// As <see cref="Start(int)"/>, but broker <c>n</c> is reached at 127.0.0.1:<c>firstPort + n - 1</c> (a forwarder
    /// in front of the mock's own port) and advertised there, so a broker restarted on the same ports is found again
    /// by clients that kept the old address. <c>firstPort</c> 0 (one broker only): a port the system picks, bound at
    /// once and read back from <see cref="BootstrapServers"/>, for a restart on it later without a race for it now.
    /// </summary>
    public static EmbeddedKafkaBroker Start(int brokerCount, int? firstPort)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        if (firstPort == 0)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(brokerCount, 1);
        }
        else if (firstPort is { } first)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(first, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(first + brokerCount - 1, IPEndPoint.MaxPort);
        }

        // Touch Confluent.Kafka first so it loads its native library; ours resolves to the same file.
        _ = Confluent.Kafka.Library.Version;

        const int ErrSize = 512;
        var errstr = Marshal.AllocHGlobal(ErrSize);
        try
        {
            var conf = NativeMock.rd_kafka_conf_new();
            NativeMock.rd_kafka_conf_set(conf, "client.id", "mesh-embedded-broker", errstr, ErrSize);
            // The handle only hosts the cluster and never connects anywhere: keep its "no bootstrap.servers" notice quiet.
            NativeMock.rd_kafka_conf_set(conf, "log_level", "3", errstr, ErrSize);
            var handle = NativeMock.rd_kafka_new(0, conf, errstr, ErrSize);
            if (handle == IntPtr.Zero)
            {
                throw new InvalidOperationException("rd_kafka_new failed: " + Marshal.PtrToStringUTF8(errstr));
            }

            var cluster = NativeMock.rd_kafka_mock_cluster_new(handle, brokerCount);
            if (cluster == IntPtr.Zero)
            {
                NativeMock.rd_kafka_destroy(handle);
                throw new InvalidOperationException("rd_kafka_mock_cluster_new failed to start a mock cluster.");
            }

            NativeMock.rd_kafka_mock_set_controller_id(cluster, 1);
            NativeMock.rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0);
            try
            {
                return new EmbeddedKafkaBroker(handle, cluster, brokerCount, firstPort);
            }
            catch
            {
                NativeMock.rd_kafka_mock_cluster_destroy(cluster);
                NativeMock.rd_kafka_destroy(handle);
                throw;
            }
        }
        finally
        {
            Marshal.FreeHGlobal(errstr);
        }
    }

    /// <summary>Creates a topic. The mock does not implement the CreateTopics admin API, so topics are created here.</summary>
    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var err = NativeMock.rd_kafka_mock_topic_create(Cluster(), name, partitions, Math.Min(replicationFactor, BrokerCount));
        // 36 = TOPIC_ALREADY_EXISTS: creating the mesh topics twice is harmless.
        if (err != 0 && err != 36)
        {
            throw new InvalidOperationException($"Creating topic '{name}' failed: {NativeMock.ErrorText(err)}");
        }
    }

    /// <summary>Takes a broker down (connections refused) for fault-injection tests.</summary>
    public void SetBrokerDown(int brokerId) => Check(NativeMock.rd_kafka_mock_broker_set_down(Cluster(), brokerId), "broker down");

    /// <summary>Brings a broker back up.</summary>
    public void SetBrokerUp(int brokerId) => Check(NativeMock.rd_kafka_mock_broker_set_up(Cluster(), brokerId), "broker up");

    /// <summary>Adds a round-trip time to every request a broker answers.</summary>
    public void SetBrokerRtt(int brokerId, int rttMs) => Check(NativeMock.rd_kafka_mock_broker_set_rtt(Cluster(), brokerId, rttMs), "broker rtt");

    /// <summary>
    /// Makes the next <paramref name="errors"/>.Length requests of type <paramref name="apiKey"/> (0 = Produce,
    /// 1 = Fetch) fail with those Kafka error codes, in order.
    /// </summary>
    public void PushRequestErrors(short apiKey, params int[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        NativeMock.rd_kafka_mock_push_request_errors_array(Cluster(), apiKey, (UIntPtr)errors.Length, errors);
    }

    /// <summary>Drops the errors still pushed for <paramref name="apiKey"/>.</summary>
    public void ClearRequestErrors(short apiKey) => NativeMock.rd_kafka_mock_clear_request_errors(Cluster(), apiKey);

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var forwarder in _forwarders)
            {
                forwarder.Dispose();
            }

            if (_cluster != IntPtr.Zero)
            {
                NativeMock.rd_kafka_mock_cluster_destroy(_cluster);
                _cluster = IntPtr.Zero;
            }

            if (_handle != IntPtr.Zero)
            {
                NativeMock.rd_kafka_destroy(_handle);
                _handle = IntPtr.Zero;
            }
        }
    }

    // Broker ids are 1..N in the order of the mock's bootstrap list.
    private static List<TcpForwarder> Forward(IntPtr cluster, string own, int firstPort)
    {
        var forwarders = new List<TcpForwarder>();
        try
        {
            var id = 1;
            foreach (var address in own.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var forwarder = new TcpForwarder(firstPort + id - 1, IPEndPoint.Parse(address));
                forwarders.Add(forwarder);
                NativeMock.rd_kafka_mock_broker_set_host_port(cluster, id, "127.0.0.1", forwarder.Port);
                id++;
            }

            return forwarders;
        }
        catch
        {
            forwarders.ForEach(f => f.Dispose());
            throw;
        }
    }

    private IntPtr Cluster()
    {
        var cluster = _cluster;
        ObjectDisposedException.ThrowIf(cluster == IntPtr.Zero, this);
        return cluster;
    }

    private static void Check(int err, string what)
    {
        if (err != 0)
        {
            throw new InvalidOperationException($"Mock cluster {what} failed: {NativeMock.ErrorText(err)}");
        }
    }
}
