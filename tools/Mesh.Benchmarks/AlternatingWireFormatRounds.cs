using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Mesh.Contracts.V1;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Benchmarks;

/// <summary>
/// <c>Mesh.Benchmarks --alternate-wire-format [rounds]</c>: the plain and the framed read of <see cref="WireFormatBenchmarks"/>
/// in alternating rounds (plain then framed, then framed then plain, ...), and the median of each round's ratio. On a
/// shared machine BenchmarkDotNet measures one method after the other, so load from elsewhere lands on whichever ran
/// during it (the framed read came out 2 % and 24 % over the plain one in two short runs of the same code); a ratio
/// taken within each round of a few milliseconds sees the same load on both sides.
/// </summary>
internal static class AlternatingWireFormatRounds
{
    private const string Topic = "mesh.features.v1";
    private const int DecodesPerRound = 20_000;

    public static int Run(int rounds, TextWriter output)
    {
        var record = new FeatureRecord
        {
            RequestId = "run-123456",
            EntityId = "entity-42",
            EventTime = Timestamp.FromDateTime(new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc)),
            FeatureSet = "iris",
            Values = { 5.1f, 3.5f, 1.4f, 0.2f },
        };
        var options = new SchemaRegistryOptions { Url = "http://127.0.0.1:1" };
        var client = FixedSchemaRegistry.Create();
        var reader = new WireFormatReader(client, options);
        var plain = record.ToByteArray();
        var framed = new WireFormatWriter(client, options).Encode(Topic, record);
        for (var i = 0; i < 30; i++)
        {
            Time(reader, plain);
            Time(reader, framed);
        }

        var ratios = new double[rounds];
        var plainNs = new double[rounds];
        var framedNs = new double[rounds];
        long plainBytes = 0;
        long framedBytes = 0;
        for (var round = 0; round < rounds; round++)
        {
            var plainFirst = round % 2 == 0;
            var (first, firstBytes) = Time(reader, plainFirst ? plain : framed);
            var (second, secondBytes) = Time(reader, plainFirst ? framed : plain);
            var (p, f) = plainFirst ? (first, second) : (second, first);
            plainBytes += plainFirst ? firstBytes : secondBytes;
            framedBytes += plainFirst ? secondBytes : firstBytes;
            ratios[round] = f / p;
            plainNs[round] = p;
            framedNs[round] = f;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} alternating rounds of {DecodesPerRound:N0} decodes: plain {Quantile(plainNs, 0.5):F1} ns, framed {Quantile(framedNs, 0.5):F1} ns (medians); " +
            $"framed/plain per round: median {Quantile(ratios, 0.5):F3}, quartiles {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3}; " +
            $"allocated per decode: plain {(double)plainBytes / rounds / DecodesPerRound:F1} B, framed {(double)framedBytes / rounds / DecodesPerRound:F1} B; " +
            $"load average {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown")} on {Environment.ProcessorCount} cores."));
        return 0;
    }

    private static (double NsPerDecode, long Bytes) Time(WireFormatReader reader, byte[] value)
    {
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        var features = 0;
        for (var i = 0; i < DecodesPerRound; i++)
        {
            features += reader.Decode<FeatureRecord>(Topic, value).Values.Count;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - bytes;
        return features == DecodesPerRound * 4
            ? (elapsed.TotalNanoseconds / DecodesPerRound, allocated)
            : throw new InvalidOperationException("a decode lost features");
    }

    private static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)(q * (sorted.Length - 1))];
    }
}
