namespace Mesh.Page.Tests;

/// <summary>
/// Streams what the router and the producer put on the metrics sink's topics during the demo, until disposed:
/// an A/B test split at random (logreg ~90% right, boosted ~97%) with a shadow copy of every request, and each label shortly after.
/// With <c>shedEvery</c> = n, every n-th primary Prediction says the router routed it by lag-aware shedding.
/// Every label carries outcomes (docs/outcomes.md): <c>revenue</c> (about 8 on logreg, 12 on boosted; every tenth
/// label lacks it) and <c>clicked</c> (1 or 0); a sink that declares none ignores them.
/// </summary>
internal sealed class PredictionFeed : IAsyncDisposable
{
    private static readonly string[] s_classes = ["setosa", "versicolor", "virginica"];

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly MeshTopics _topics;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _sent;
    private int _disposed;

    private readonly int _shedEvery;

    public PredictionFeed(string bootstrapServers, MeshTopics topics, int perTick = 20, int tickMs = 100, int shedEvery = 0)
    {
        _topics = topics;
        _shedEvery = shedEvery;
        _producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5 }).Build();
        _loop = Task.Run(() => RunAsync(perTick, tickMs, _stop.Token));
    }

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Stops the stream (a test may stop it before the end of its scope); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync(int perTick, int tickMs, CancellationToken stop)
    {
        var random = new Random(7);
        // Its own generator, so the outcomes leave the sequence of classes, arms and latencies as it was.
        var outcomes = new Random(13);
        long n = 0;
        while (!stop.IsCancellationRequested)
        {
            for (var i = 0; i < perTick; i++, n++)
            {
                var requestId = $"page-{n}";
                var entity = $"entity-{n % 500}";
                var truth = s_classes[random.Next(3)];
                var boosted = random.NextDouble() < 0.5;
                var right = random.NextDouble() < (boosted ? 0.97 : 0.90);
                var predicted = right ? truth : s_classes[(Array.IndexOf(s_classes, truth) + 1) % 3];
                var latency = (boosted ? 4.0 : 2.5) + random.NextDouble() * 3 + (random.NextDouble() < 0.02 ? 20 : 0);
                var primary = Prediction(requestId, entity, boosted ? "boosted" : "logreg", predicted, latency, shadow: false);
                if (_shedEvery > 0 && n % _shedEvery == 0)
                {
                    primary.RoutingReason = "shed";
                }

                Produce(_topics.Predictions, entity, primary);
                var shadowPredicted = random.NextDouble() < 0.93 ? truth : s_classes[(Array.IndexOf(s_classes, truth) + 2) % 3];
                Produce(_topics.ShadowPredictions, entity, Prediction(requestId, entity, "challenger", shadowPredicted, latency + 1, shadow: true));
                var label = new Label { RequestId = requestId, EntityId = entity, Value = truth, ObservedTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow) };
                if (n % 10 != 0)
                {
                    label.Outcomes["revenue"] = (boosted ? 12 : 8) + (outcomes.NextDouble() * 2) - 1;
                }

                label.Outcomes["clicked"] = outcomes.NextDouble() < (boosted ? 0.3 : 0.2) ? 1 : 0;
                Produce(_topics.Labels, entity, label);
                Interlocked.Increment(ref _sent);
            }

            await Task.Delay(tickMs, stop);
        }
    }

    private static Prediction Prediction(string requestId, string entity, string arm, string predicted, double latencyMs, bool shadow) => new()
    {
        RequestId = requestId,
        EntityId = entity,
        Experiment = "iris-ab",
        Arm = arm,
        ModelName = "iris-" + arm,
        ModelVersion = "1",
        Shadow = shadow,
        AssignmentProbability = shadow ? 1 : 0.5,
        Output = new PredictionOutput { Label = predicted },
        Latency = new Latency { EndToEndMs = latencyMs, InferenceMs = latencyMs / 4 },
    };

    private void Produce<T>(string topic, string key, T message)
        where T : IMessage<T>, new() =>
        _producer.Produce(topic, new Message<byte[], byte[]>
        {
            Key = System.Text.Encoding.UTF8.GetBytes(key),
            Value = message.ToByteArray(),
            Headers = MeshHeaders.Create<T>(null),
        });
}
