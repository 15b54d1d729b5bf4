namespace Mesh.Deploy.Tests.Launch;

/// <summary>
/// What the rendered pods need around them, here: a Kafka cluster (the embedded broker unless
/// KAFKA_BOOTSTRAP_SERVERS names one) with the five mesh topics, a real redis-server, and the demo models in a
/// folder, which the model host serves instead of MLflow (no MLflow server can run here).
/// </summary>
public sealed class LaunchEnvironment : IAsyncLifetime
{
    private readonly KafkaTestCluster _kafka = new();
    private RedisProcess? _redis;

    public string Work { get; } = Path.Combine(Path.GetTempPath(), "mesh-deploy-" + Guid.NewGuid().ToString("N")[..8]);

    public string Models => Path.Combine(Work, "models");

    internal IReadOnlyDictionary<string, string> Addresses => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["mesh-kafka-bootstrap:9092"] = _kafka.BootstrapServers,
        ["redis:6379"] = _redis!.Configuration,
    };

    /// <summary>True once a prediction of <paramref name="experiment"/> is on the predictions topic (read from the start, bounded).</summary>
    internal bool SawPrediction(string experiment, TimeSpan bound)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = "deploy-reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe("mesh.predictions.v1");
        var deadline = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message.Value: { } value } && Prediction.Parser.ParseFrom(value).Experiment == experiment)
            {
                return true;
            }
        }

        return false;
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Work);
        await _kafka.InitializeAsync();
        // Strimzi creates them from the KafkaTopics; the router only gets an assignment on a topic that exists.
        await _kafka.CreateTopicsAsync(4, "mesh.features.v1", "mesh.predictions.v1", "mesh.shadow-predictions.v1", "mesh.labels.v1", "mesh.dead-letter.v1");
        _redis = await RedisProcess.StartAsync(CancellationToken.None);
        DemoModelTrainer.Train(Path.Combine(TestRepository.Root, "data", "iris.csv"), Models, TextWriter.Null);
    }

    public async Task DisposeAsync()
    {
        _redis?.Dispose();
        await _kafka.DisposeAsync();
        try
        {
            Directory.Delete(Work, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
