using Confluent.Kafka;
using Google.Protobuf;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.Cli.Bench;

/// <summary>
/// The physical limit the mesh is measured against: one process that consumes feature records, runs the ONNX
/// model in-process on batches and produces predictions, with no gRPC hop and no second process.
/// </summary>
internal sealed class FusedPipeline : IDisposable
{
    private const int MaxBatch = 256;
    private readonly string _bootstrapServers;
    private readonly BenchTopics _topics;
    private readonly InferenceSession _session;
    // One for every run, disposed with the session: a RunOptions made per call and never kept was finalized while ONNX
    // Runtime still read it (a run failed with a log level of 1544141664).
    private readonly RunOptions _runOptions = new();
    private readonly string _inputName;
    private readonly string _scoreName;
    private readonly string[] _classes;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public FusedPipeline(string bootstrapServers, BenchTopics topics, string modelFolder, string[] classes)
    {
        _bootstrapServers = bootstrapServers;
        _topics = topics;
        _classes = classes;
        _session = new InferenceSession(Path.Combine(modelFolder, "model.onnx"), new SessionOptions { IntraOpNumThreads = 1 });
        _inputName = _session.InputMetadata.Keys.First();
        _scoreName = _session.OutputMetadata.Keys.First(k => k.StartsWith("Score", StringComparison.Ordinal));
        _thread = new Thread(Run) { IsBackground = true, Name = "fused-pipeline" };
        _thread.Start();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        _session.Dispose();
        _runOptions.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = _bootstrapServers,
            GroupId = "mesh-bench-fused-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = true,
            FetchWaitMaxMs = 1,
            SocketNagleDisable = true,
        }).SetLogHandler((_, _) => { }).Build();
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = _bootstrapServers,
            EnableIdempotence = true,
            LingerMs = 1,
            BatchNumMessages = 10_000,
            QueueBufferingMaxMessages = 1_000_000,
            SocketNagleDisable = true,
        }).Build();
        consumer.Subscribe(_topics.Features);
        var features = new float[MaxBatch * 4];
        var batch = new List<FeatureRecord>(MaxBatch);
        var headers = MeshHeaders.Create<Prediction>(null);
        while (!_stop.IsCancellationRequested)
        {
            batch.Clear();
            var first = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (first is null)
            {
                continue;
            }

            batch.Add(FeatureRecord.Parser.ParseFrom(first.Message.Value));
            while (batch.Count < MaxBatch && consumer.Consume(TimeSpan.Zero) is { } next)
            {
                batch.Add(FeatureRecord.Parser.ParseFrom(next.Message.Value));
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Values.CopyTo(features, i * 4);
            }

            var started = DateTime.UtcNow;
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features.AsMemory(0, batch.Count * 4), [batch.Count, 4]);
            using var outputs = _session.Run(_runOptions, [_inputName], [input], [_scoreName]);
            var scores = outputs[0].GetTensorDataAsSpan<float>();
            var inferenceMs = (DateTime.UtcNow - started).TotalMilliseconds;
            for (var i = 0; i < batch.Count; i++)
            {
                var row = scores.Slice(i * _classes.Length, _classes.Length);
                var best = 0;
                for (var c = 1; c < row.Length; c++)
                {
                    best = row[c] > row[best] ? c : best;
                }

                var record = batch[i];
                var prediction = new Prediction
                {
                    RequestId = record.RequestId,
                    EntityId = record.EntityId,
                    Experiment = "fused",
                    Arm = "fused",
                    ModelName = "iris-logreg",
                    ModelVersion = "1",
                    Output = new PredictionOutput { Label = _classes[best], Scores = { row.ToArray() }, ClassNames = { _classes } },
                    AssignmentProbability = 1,
                    EventTime = record.EventTime,
                    PredictedTime = Timestamp.FromDateTime(DateTime.UtcNow),
                    Latency = new Latency { InferenceMs = inferenceMs },
                };
                Produce(producer, new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(record.EntityId), Value = prediction.ToByteArray(), Headers = headers });
            }
        }

        producer.Flush(TimeSpan.FromSeconds(10));
        consumer.Close();
    }

    private void Produce(IProducer<byte[], byte[]> producer, Message<byte[], byte[]> message) =>
        ProduceRetry.Produce(producer, _topics.Predictions, message, null, _stop.Token);
}
