using System.Diagnostics;
using Confluent.Kafka;
using Google.Protobuf;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Cli.Bench;

/// <summary>
/// Offers feature records to the features topic (flat out or at a set rate) and reads the predictions back,
/// timing each from the record's event time to the moment the benchmark reads its prediction, on one clock. Values are
/// written and read in the scenario's wire format, and the predictions read back framed are counted.
/// <para>
/// The producers and the reader live as long as the driver, so only its first run pays for starting Kafka clients: an
/// idempotent producer asks for its producer id before it sends anything, and a fresh one in every run held the run's
/// first records back for about half a second, which put a 500 ms tail under every latency figure of the fused baseline.
/// A scenario's warm-up and its measured runs share one driver.
/// </para>
/// </summary>
internal sealed class LoadDriver(string bootstrapServers, BenchTopics topics, BenchWireFormat wireFormat) : IDisposable
{
    private static readonly float[][] s_rows = LoadRows();

    private IConsumer<byte[], byte[]>? _reader;
    private IProducer<byte[], byte[]>? _paced;
    private IProducer<byte[], byte[]>? _flatOut;

    public void Dispose()
    {
        _reader?.Close();
        _reader?.Dispose();
        _paced?.Dispose();
        _flatOut?.Dispose();
    }

    /// <summary>
    /// Sends <paramref name="count"/> records at <paramref name="rate"/> per second (0: as fast as the producer
    /// takes them) and waits until every one has a prediction or <paramref name="timeout"/> passes.
    /// </summary>
    public LoadResult Run(string runId, int count, double rate, TimeSpan timeout, Action<LoadProgress>? progress = null)
    {
        var reader = _reader ??= CreateReader();

        var latencies = new double[count];
        var seen = new bool[count];
        var received = 0;
        var duplicates = 0;
        var framed = 0;
        var readerDone = new ManualResetEventSlim();
        var stopwatch = Stopwatch.StartNew();
        TimeSpan lastPrediction = default;
        var stopReading = false;
        var readerThread = new Thread(() =>
        {
            var deadline = DateTime.UtcNow + timeout;
            while (received < count && DateTime.UtcNow < deadline && !Volatile.Read(ref stopReading))
            {
                var record = reader.Consume(TimeSpan.FromMilliseconds(100));
                if (record is null)
                {
                    continue;
                }

                var nowTicks = DateTime.UtcNow.Ticks;
                var prediction = wireFormat.Reader.Decode<Prediction>(topics.Predictions, record.Message.Value);
                if (!TryIndex(prediction.RequestId, runId, out var index) || index >= count || prediction.Shadow)
                {
                    continue;
                }

                if (seen[index])
                {
                    duplicates++;
                    continue;
                }

                seen[index] = true;
                framed += ConfluentWireFormat.IsFramed(record.Message.Value) ? 1 : 0;
                latencies[index] = (nowTicks - prediction.EventTime.ToDateTime().Ticks) / (double)TimeSpan.TicksPerMillisecond;
                received++;
                lastPrediction = stopwatch.Elapsed;
            }

            readerDone.Set();
        })
        { IsBackground = true, Name = "bench-reader" };
        readerThread.Start();

        var sendStarted = stopwatch.Elapsed;
        TimeSpan sendEnded;
        try
        {
            Send(runId, count, rate, progress, () => received);
            sendEnded = stopwatch.Elapsed;
        }
        catch
        {
            // The reader must be done with the consumer before it is disposed, or its next poll throws on
            // its own thread and takes the process down, hiding this exception.
            Volatile.Write(ref stopReading, true);
            throw;
        }
        finally
        {
            readerDone.Wait();
        }

        var ok = latencies.Where((_, i) => seen[i]).ToArray();
        Array.Sort(ok);
        var span = (lastPrediction - sendStarted).TotalSeconds;
        return new LoadResult(count, received, duplicates, received / Math.Max(span, 1e-6), (sendEnded - sendStarted).TotalSeconds,
            Percentile(ok, 0.50), Percentile(ok, 0.95), Percentile(ok, 0.99), Percentile(ok, 0.999), ok.Length == 0 ? double.NaN : ok[^1], framed);
    }

    private void Send(string runId, int count, double rate, Action<LoadProgress>? progress, Func<int> received)
    {
        // At a low offered rate every record goes out at once; flat out, a 2 ms linger fills the produce requests.
        var producer = rate > 0 && rate <= 2000 ? _paced ??= CreateProducer(0) : _flatOut ??= CreateProducer(2);
        var headers = MeshHeaders.Create<FeatureRecord>(null);
        var pace = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        for (var i = 0; i < count; i++)
        {
            if (rate > 0)
            {
                // Hold the offered load: wait until record i is due (spin briefly, sleep when far ahead).
                var due = TimeSpan.FromSeconds(i / rate);
                while (pace.Elapsed < due)
                {
                    var ahead = due - pace.Elapsed;
                    if (ahead > TimeSpan.FromMilliseconds(2))
                    {
                        Thread.Sleep(1);
                    }
                    else
                    {
                        Thread.SpinWait(50);
                    }
                }
            }

            var row = s_rows[i % s_rows.Length];
            var entity = "entity-" + (i % 1000);
            var record = new FeatureRecord
            {
                RequestId = runId + "-" + i,
                EntityId = entity,
                EventTime = Timestamp.FromDateTime(DateTime.UtcNow),
                FeatureSet = "iris",
                Values = { row },
            };
            var message = new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(entity), Value = wireFormat.Writer.Encode(topics.Features, record), Headers = headers };
            ProduceRetry.Produce(producer, topics.Features, message, null, CancellationToken.None);

            if (progress is not null && pace.Elapsed - lastReport > TimeSpan.FromSeconds(1))
            {
                lastReport = pace.Elapsed;
                progress(new LoadProgress(i + 1, count, received()));
            }
        }

        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private IProducer<byte[], byte[]> CreateProducer(double lingerMs) =>
        new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            LingerMs = lingerMs,
            BatchNumMessages = 10_000,
            QueueBufferingMaxMessages = 1_000_000,
            SocketNagleDisable = true,
        }).Build();

    /// <summary>
    /// The predictions reader, pinned to each partition's end when it is created (before any record of this driver is
    /// sent): a subscription with auto.offset.reset=latest resolves its position lazily and skipped the first predictions
    /// of fast runs. Later runs read on from where the last one stopped and skip what is not theirs by request id.
    /// </summary>
    private IConsumer<byte[], byte[]> CreateReader()
    {
        var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "mesh-bench-reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Latest,
            EnableAutoCommit = false,
            FetchWaitMaxMs = 1,
            SocketNagleDisable = true,
        }).SetLogHandler((_, _) => { }).Build();
        reader.Assign(Enumerable.Range(0, BenchTopics.Partitions).Select(p =>
        {
            var partition = new TopicPartition(topics.Predictions, p);
            return new TopicPartitionOffset(partition, reader.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High);
        }).ToList());
        return reader;
    }

    private static bool TryIndex(string requestId, string runId, out int index)
    {
        index = -1;
        return requestId.Length > runId.Length + 1 && requestId.StartsWith(runId, StringComparison.Ordinal) &&
            int.TryParse(requestId.AsSpan(runId.Length + 1), out index);
    }

    internal static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static float[][] LoadRows()
    {
        // The iris measurements, cycled; the benchmark measures transport and serving, not the data.
        return
        [
            [5.1f, 3.5f, 1.4f, 0.2f], [7.0f, 3.2f, 4.7f, 1.4f], [6.3f, 3.3f, 6.0f, 2.5f],
            [4.9f, 3.0f, 1.4f, 0.2f], [6.4f, 3.2f, 4.5f, 1.5f], [5.8f, 2.7f, 5.1f, 1.9f],
        ];
    }
}

/// <summary>Where a run is, about once a second: records sent of the run's count, and predictions read back.</summary>
internal readonly record struct LoadProgress(int Sent, int Count, int Received)
{
    public override string ToString() => $"sent {Sent:N0}/{Count:N0}, predictions read {Received:N0}";
}

/// <summary>One run's figures; <paramref name="Framed"/>: how many of the predictions received were in Confluent's wire format.</summary>
internal sealed record LoadResult(int Sent, int Received, int Duplicates, double RecordsPerSecond, double SendSeconds, double P50Ms, double P95Ms, double P99Ms, double P999Ms, double MaxMs, int Framed = 0);

internal sealed record BenchTopics(string Features, string Predictions, string ShadowPredictions, string Labels, string DeadLetter)
{
    /// <summary>Partitions of every benchmark topic.</summary>
    public const int Partitions = 8;

    public static BenchTopics Unique(string scenario)
    {
        var id = scenario + "." + Guid.NewGuid().ToString("N")[..8];
        return new BenchTopics($"bench.{id}.features", $"bench.{id}.predictions", $"bench.{id}.shadow", $"bench.{id}.labels", $"bench.{id}.dlq");
    }

    public IReadOnlyList<string> All => [Features, Predictions, ShadowPredictions, Labels, DeadLetter];
}
