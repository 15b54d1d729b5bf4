namespace Mesh.Cli.Tests;

/// <summary>
/// The load driver of `mesh bench` writes and reads in its scenario's wire format: against the embedded broker and the
/// local registry, with a stand-in router that answers each feature record in the framing it arrived in.
/// </summary>
public sealed class BenchWireFormatTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const int Records = 40;

    [Fact]
    public async Task Run_ConfluentWireFormat_WritesFramedFeaturesAndReadsEveryPredictionFramed()
    {
        var (options, problem) = BenchSchemaRegistry.Settings(BenchSchemaRegistry.Local);
        Assert.Null(problem);
        await using var registry = await BenchSchemaRegistry.StartAsync(BenchSchemaRegistry.Local, options!);

        var (result, featuresFramed) = await RunAgainstEchoAsync(registry.WireFormat);

        Assert.Equal(Records, result.Received);
        Assert.Equal(Records, result.Framed);
        Assert.Equal(Records, featuresFramed);
    }

    [Fact]
    public async Task Run_PlainWireFormat_WritesAndReadsPlainValues()
    {
        var (result, featuresFramed) = await RunAgainstEchoAsync(BenchWireFormat.Plain);

        Assert.Equal(Records, result.Received);
        Assert.Equal(0, result.Framed);
        Assert.Equal(0, featuresFramed);
    }

    [Fact]
    public void Settings_RegistryNotAUrl_NamesTheOption()
    {
        var (options, problem) = BenchSchemaRegistry.Settings("registry.example:8081");

        Assert.Null(options);
        Assert.StartsWith("--schema-registry: 'registry.example:8081' is not an http:// or https:// URL", problem, StringComparison.Ordinal);
    }

    private async Task<(LoadResult Result, int FeaturesFramed)> RunAgainstEchoAsync(BenchWireFormat wireFormat)
    {
        var topics = BenchTopics.Unique("t");
        await cluster.CreateTopicsAsync(BenchTopics.Partitions, [.. topics.All]);
        using var stop = new CancellationTokenSource();
        var echo = Task.Run(() => Echo(topics, wireFormat, stop.Token));
        try
        {
            using var driver = new LoadDriver(cluster.BootstrapServers, topics, wireFormat);
            var result = driver.Run("run", Records, 0, TimeSpan.FromSeconds(60));
            return (result, await StopAsync(stop, echo));
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    private static async Task<int> StopAsync(CancellationTokenSource stop, Task<int> echo)
    {
        await stop.CancelAsync();
        return await echo;
    }

    // What the router does to the wire format: reads features in either framing and writes predictions in the one the
    // scenario uses (here: the one each feature record came in, so a plain driver's records stay plain).
    private int Echo(BenchTopics topics, BenchWireFormat wireFormat, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "bench-echo-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 10,
        }).Build();
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 0 }).Build();
        consumer.Subscribe(topics.Features);
        var framed = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null)
            {
                continue;
            }

            var isFramed = ConfluentWireFormat.IsFramed(record.Message.Value);
            framed += isFramed ? 1 : 0;
            var features = wireFormat.Reader.Decode<FeatureRecord>(topics.Features, record.Message.Value);
            var prediction = new Prediction { RequestId = features.RequestId, EntityId = features.EntityId, EventTime = features.EventTime };
            var value = isFramed ? wireFormat.Writer.Encode(topics.Predictions, prediction) : BenchWireFormat.Plain.Writer.Encode(topics.Predictions, prediction);
            producer.Produce(topics.Predictions, new Message<byte[], byte[]> { Key = record.Message.Key, Value = value });
        }

        producer.Flush(TimeSpan.FromSeconds(10));
        consumer.Close();
        return framed;
    }
}
