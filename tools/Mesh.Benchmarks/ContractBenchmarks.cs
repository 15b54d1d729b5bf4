using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Inference;
using Mesh.Contracts.V1;

namespace Mesh.Benchmarks;

/// <summary>The per-record protobuf work on the router's hot path: parse features, assemble a batch, encode the v2 request, encode predictions.</summary>
[MemoryDiagnoser]
public class ContractBenchmarks
{
    private byte[] _featureBytes = [];
    private FeatureRecord[] _batch = [];
    private float[] _buffer = [];
    private Prediction _prediction = new();

    [Params(1, 64, 256)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var record = new FeatureRecord
        {
            RequestId = "run-123456",
            EntityId = "entity-42",
            EventTime = Timestamp.FromDateTime(DateTime.UtcNow),
            FeatureSet = "iris",
            Values = { 5.1f, 3.5f, 1.4f, 0.2f },
        };
        _featureBytes = record.ToByteArray();
        _batch = Enumerable.Range(0, BatchSize).Select(_ => FeatureRecord.Parser.ParseFrom(_featureBytes)).ToArray();
        _buffer = new float[BatchSize * 4];
        _prediction = new Prediction
        {
            RequestId = record.RequestId,
            EntityId = record.EntityId,
            Experiment = "iris-ab",
            Arm = "logreg",
            ModelName = "iris-logreg",
            ModelVersion = "1",
            Output = new PredictionOutput { Label = "setosa", Scores = { 0.97f, 0.02f, 0.01f }, ClassNames = { "setosa", "versicolor", "virginica" } },
            AssignmentProbability = 0.5,
            PolicyVersion = "ab-3eae9c49",
            Latency = new Latency { QueueMs = 1.2, InferenceMs = 0.4, EndToEndMs = 2.5 },
            TraceId = "d3a78234cb236fd7bf8b3024042e7783",
            EventTime = record.EventTime,
            PredictedTime = record.EventTime,
        };
    }

    /// <summary>Decoding one Kafka record value into a FeatureRecord.</summary>
    [Benchmark]
    public int ParseFeatureRecord() => FeatureRecord.Parser.ParseFrom(_featureBytes).Values.Count;

    /// <summary>Copying a batch's features into one contiguous buffer and encoding the ModelInfer request.</summary>
    [Benchmark]
    public int EncodeInferRequest()
    {
        for (var i = 0; i < _batch.Length; i++)
        {
            _batch[i].Values.CopyTo(_buffer, i * 4);
        }

        var request = new ModelInferRequest
        {
            ModelName = "iris-logreg",
            ModelVersion = "1",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "Features", Datatype = "FP32", Shape = { _batch.Length, 4 } } },
        };
        request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_buffer.AsSpan()).ToArray()));
        return request.CalculateSize();
    }

    /// <summary>Encoding the batch's Predictions for the producer.</summary>
    [Benchmark]
    public int EncodePredictions()
    {
        var total = 0;
        for (var i = 0; i < BatchSize; i++)
        {
            total += _prediction.ToByteArray().Length;
        }

        return total;
    }
}
