using System.Reflection;
using System.Runtime.InteropServices;

namespace Mesh.EmbeddedBroker;

/// <summary>
/// P/Invoke bindings to librdkafka's mock cluster (<c>rdkafka_mock.h</c>), loaded from the same native
/// file Confluent.Kafka uses.
/// </summary>
internal static partial class NativeMock
{
    private const string Library = "librdkafka";
    private const int ProducerType = 0;

    static NativeMock()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeMock).Assembly, Resolve);
    }

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, IntPtr errstr, UIntPtr errstrSize);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_new(int type, IntPtr conf, IntPtr errstr, UIntPtr errstrSize);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_mock_cluster_destroy(IntPtr cluster);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr cluster, int delayMs);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_mock_set_controller_id(IntPtr cluster, int controllerId);

    [LibraryImport(Library)]
    internal static partial int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);

    [LibraryImport(Library)]
    internal static partial int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);

    [LibraryImport(Library)]
    internal static partial int rd_kafka_mock_broker_set_rtt(IntPtr cluster, int brokerId, int rttMs);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void rd_kafka_mock_broker_set_host_port(IntPtr cluster, int brokerId, string host, int port);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);

    [LibraryImport(Library)]
    internal static partial void rd_kafka_mock_clear_request_errors(IntPtr cluster, short apiKey);

    [LibraryImport(Library)]
    internal static partial IntPtr rd_kafka_err2str(int err);

    internal static string ErrorText(int err) => Marshal.PtrToStringUTF8(rd_kafka_err2str(err)) ?? $"error {err}";

    // Debian lacks libsasl2.so.3, which the package's default librdkafka.so needs; Confluent.Kafka then
    // falls back to the centos8 build in the same folder, and so must we, or the two would disagree.
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in CandidatePaths())
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    private static IEnumerable<string> CandidatePaths()
    {
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var roots = new[]
        {
            AppContext.BaseDirectory,
            Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location) ?? AppContext.BaseDirectory,
        };
        foreach (var root in roots.Distinct())
        {
            var native = Path.Combine(root, "runtimes", rid, "native");
            yield return Path.Combine(native, "librdkafka.so");
            yield return Path.Combine(native, "centos8-librdkafka.so");
            yield return Path.Combine(native, "alpine-librdkafka.so");
            yield return Path.Combine(root, "librdkafka.so");
        }
    }
}
