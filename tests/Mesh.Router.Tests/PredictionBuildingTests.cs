namespace Mesh.Router.Tests;

public sealed class PredictionBuildingTests
{
    // BYTES raw encoding written out by hand: 4-byte little-endian length, then the UTF-8 bytes.
    private static readonly byte[] s_labelBytes =
    [
        6, 0, 0, 0, (byte)'s', (byte)'e', (byte)'t', (byte)'o', (byte)'s', (byte)'a',
        9, 0, 0, 0, (byte)'v', (byte)'i', (byte)'r', (byte)'g', (byte)'i', (byte)'n', (byte)'i', (byte)'c', (byte)'a',
    ];

    // The model host's outputs as its ModelMetadata lists them; the class names come with each answer.
    private static readonly OutputContract s_contract = OutputContract.Resolve(
        new ModelMetadataResponse
        {
            Outputs =
            {
                new ModelMetadataResponse.Types.TensorMetadata { Name = "label", Datatype = "BYTES", Shape = { -1 } },
                new ModelMetadataResponse.Types.TensorMetadata { Name = "probabilities", Datatype = "FP32", Shape = { -1, 3 } },
            },
        },
        label: null,
        scores: null,
        classes: null);

    private static ModelInferResponse RawResponse(byte[] labels, bool withClassNames = true)
    {
        var response = new ModelInferResponse { ModelName = "iris-logreg", ModelVersion = "1" };
        var label = new ModelInferResponse.Types.InferOutputTensor { Name = "label", Datatype = "BYTES" };
        label.Shape.Add(2);
        var probabilities = new ModelInferResponse.Types.InferOutputTensor { Name = "probabilities", Datatype = "FP32" };
        probabilities.Shape.Add(2);
        probabilities.Shape.Add(3);
        response.Outputs.Add(label);
        response.Outputs.Add(probabilities);
        response.RawOutputContents.Add(ByteString.CopyFrom(labels));
        float[] scores = [0.9f, 0.05f, 0.05f, 0.1f, 0.2f, 0.7f];
        response.RawOutputContents.Add(ByteString.CopyFrom(scores.SelectMany(BitConverter.GetBytes).ToArray()));
        if (withClassNames)
        {
            response.Parameters[InferResponseReader.ClassNamesParameter] = new InferParameter { StringParam = """["setosa","versicolor","virginica"]""" };
        }

        return response;
    }

    [Fact]
    public void Read_RawBytesAndFp32_DecodesLabelsScoresAndClassNames()
    {
        var output = InferResponseReader.Read(RawResponse(s_labelBytes), 2, s_contract);

        Assert.Equal(("setosa", "virginica"), (output.LabelOf(0), output.LabelOf(1)));
        Assert.Equal([0.9f, 0.05f, 0.05f], output.ScoresOf(0).ToArray());
        Assert.Equal([0.1f, 0.2f, 0.7f], output.ScoresOf(1).ToArray());
        Assert.Equal(["setosa", "versicolor", "virginica"], output.ClassNames);
        Assert.Equal(("iris-logreg", "1"), (output.ModelName, output.ModelVersion));
    }

    [Fact]
    public void Read_TypedContents_DecodesTheSameAnswers()
    {
        var response = RawResponse(s_labelBytes);
        response.RawOutputContents.Clear();
        response.Outputs[0].Contents = new InferTensorContents { BytesContents = { ByteString.CopyFromUtf8("setosa"), ByteString.CopyFromUtf8("virginica") } };
        response.Outputs[1].Contents = new InferTensorContents { Fp32Contents = { 0.9f, 0.05f, 0.05f, 0.1f, 0.2f, 0.7f } };

        var output = InferResponseReader.Read(response, 2, s_contract);

        Assert.Equal(("setosa", "virginica"), (output.LabelOf(0), output.LabelOf(1)));
        Assert.Equal([0.1f, 0.2f, 0.7f], output.ScoresOf(1).ToArray());
    }

    [Fact]
    public void Read_NoLabelOutput_LabelIsTheClassWithTheHighestScore()
    {
        var response = RawResponse(s_labelBytes);
        response.Outputs.RemoveAt(0);
        response.RawOutputContents.RemoveAt(0);
        // A server whose metadata lists the scores alone: its arm's contract has no label output.
        var scoresOnly = OutputContract.Resolve(
            new ModelMetadataResponse { Outputs = { new ModelMetadataResponse.Types.TensorMetadata { Name = "probabilities", Datatype = "FP32", Shape = { -1, 3 } } } },
            label: null,
            scores: null,
            classes: null);

        var output = InferResponseReader.Read(response, 2, scoresOnly);

        Assert.Equal(("setosa", "virginica"), (output.LabelOf(0), output.LabelOf(1)));
    }

    [Theory]
    [InlineData(new byte[] { 6, 0, 0, 0, (byte)'s' })]
    [InlineData(new byte[] { 1, 0, 0, 0, (byte)'a' })]
    [InlineData(new byte[] { 1, 0, 0, 0, (byte)'a', 1, 0, 0, 0, (byte)'b', 0 })]
    public void Read_MalformedBytes_ThrowsInvalidData(byte[] labels)
    {
        Assert.Throws<InvalidDataException>(() => InferResponseReader.Read(RawResponse(labels), 2, s_contract));
    }

    [Fact]
    public void Read_FewerRowsThanSent_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => InferResponseReader.Read(RawResponse(s_labelBytes), 3, s_contract));
    }

    [Fact]
    public void Create_RowOfAResponse_FillsEveryPredictionField()
    {
        var eventTime = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var feature = new FeatureRecord
        {
            RequestId = "req-7",
            EntityId = "entity-3",
            EventTime = ProtoTimestamp.FromDateTime(eventTime),
            Values = { 1, 2, 3, 4 },
            Names = { "a", "b", "c", "d" },
            Context = { ["channel"] = "web" },
        };
        var source = new ConsumeResult<byte[], byte[]>
        {
            Topic = "features",
            Partition = 0,
            Offset = 42,
            Message = new Message<byte[], byte[]> { Key = "entity-3"u8.ToArray(), Value = feature.ToByteArray() },
        };
        var traceId = ActivityTraceId.CreateRandom();
        var parent = new ActivityContext(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        var record = new RoutedRecord(source, eventTime.AddMilliseconds(12), activity: null, parent, inboundTraceParent: null)
        {
            Feature = feature,
            EventTime = eventTime,
        };
        var arm = new ArmIdentity("iris-ab", "logreg", "iris-logreg", "1", "http://127.0.0.1:8081");
        var output = InferResponseReader.Read(RawResponse(s_labelBytes), 2, s_contract);

        var prediction = PredictionFactory.Create(record, arm, 0.5, "ab-1234", output, 1, inferenceMs: 3.5, predictedAt: eventTime.AddMilliseconds(20));

        Assert.Equal(("req-7", "entity-3", "iris-ab", "logreg"), (prediction.RequestId, prediction.EntityId, prediction.Experiment, prediction.Arm));
        Assert.Equal(("iris-logreg", "1"), (prediction.ModelName, prediction.ModelVersion));
        Assert.Equal("virginica", prediction.Output.Label);
        Assert.Equal([0.1f, 0.2f, 0.7f], prediction.Output.Scores);
        Assert.Equal(["setosa", "versicolor", "virginica"], prediction.Output.ClassNames);
        Assert.Equal((0.5, "ab-1234"), (prediction.AssignmentProbability, prediction.PolicyVersion));
        Assert.Equal(12, prediction.Latency.QueueMs, 6);
        Assert.Equal(3.5, prediction.Latency.InferenceMs, 6);
        Assert.Equal(20, prediction.Latency.EndToEndMs, 6);
        Assert.Equal(traceId.ToHexString(), prediction.TraceId);
        Assert.Equal(eventTime, prediction.EventTime.ToDateTime());
        Assert.Equal(eventTime.AddMilliseconds(20), prediction.PredictedTime.ToDateTime());
        Assert.Equal("web", prediction.Context["channel"]);
        Assert.Equal([1f, 2f, 3f, 4f], prediction.Features);
        Assert.Equal(["a", "b", "c", "d"], prediction.FeatureNames);
        Assert.False(prediction.Shadow);
    }

    [Fact]
    public void Create_PrimaryAndShadowOfOneRecord_ShareTheTraceIdFormattedOnce()
    {
        var feature = new FeatureRecord { RequestId = "req-8", EntityId = "entity-4", Values = { 1, 2, 3, 4 } };
        var source = new ConsumeResult<byte[], byte[]> { Topic = "features", Partition = 0, Offset = 43, Message = new Message<byte[], byte[]> { Key = [], Value = [] } };
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        var record = new RoutedRecord(source, DateTime.UtcNow, activity: null, parent, inboundTraceParent: null) { Feature = feature, EventTime = DateTime.UtcNow };
        var output = InferResponseReader.Read(RawResponse(s_labelBytes), 2, s_contract);

        var primary = PredictionFactory.Create(record, new ArmIdentity("iris-ab", "logreg", "iris-logreg", "1", "http://127.0.0.1:8081"), 0.5, "ab-1", output, 0, 1, DateTime.UtcNow);
        var shadow = PredictionFactory.Create(record, new ArmIdentity("iris-ab", "shadow", "iris-boosted", "1", "http://127.0.0.1:8081"), 1, "ab-1", output, 0, 1, DateTime.UtcNow);

        Assert.Equal(parent.TraceId.ToHexString(), primary.TraceId);
        Assert.Same(primary.TraceId, shadow.TraceId);
        Assert.Empty(primary.Context);
    }

    [Fact]
    public void Fill_PredictionOfAnotherRow_LeavesNothingOfThatRow()
    {
        var output = InferResponseReader.Read(RawResponse(s_labelBytes), 2, s_contract);
        var first = Record(new FeatureRecord { RequestId = "req-1", EntityId = "e-1", Values = { 1, 2, 3, 4 }, Names = { "a", "b", "c", "d" }, Context = { ["channel"] = "web" } });
        var second = Record(new FeatureRecord { RequestId = "req-2", EntityId = "", Values = { 5, 6 } });
        var withUri = new ArmIdentity("iris-ab", "logreg", "iris-logreg", "1", "http://127.0.0.1:8081", "models:/iris@champion");
        var plain = new ArmIdentity("iris-ab", "boosted", "iris-boosted", "2", "http://127.0.0.1:8082");
        var now = DateTime.UtcNow;
        var reused = new Prediction();
        PredictionFactory.Fill(reused, first, withUri, 0.5, "p-1", output, 1, 3, now);
        reused.Fallback = true;
        reused.Shadow = true;
        reused.RoutingReason = "shed";

        PredictionFactory.Fill(reused, second, plain, 0.25, "p-2", output, 0, 4, now.AddSeconds(1));

        // Exactly the Prediction a new message would have been: no field, list or map entry of the first row survives.
        Assert.Equal(PredictionFactory.Create(second, plain, 0.25, "p-2", output, 0, 4, now.AddSeconds(1)), reused);
        Assert.Equal(now.AddSeconds(1), reused.PredictedTime.ToDateTime());

        static RoutedRecord Record(FeatureRecord feature)
        {
            var source = new ConsumeResult<byte[], byte[]> { Topic = "features", Partition = 0, Offset = 1, Message = new Message<byte[], byte[]> { Key = [], Value = [] } };
            var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
            return new RoutedRecord(source, DateTime.UtcNow, activity: null, parent, inboundTraceParent: null) { Feature = feature, EventTime = DateTime.UtcNow.AddMilliseconds(-5) };
        }
    }

    [Fact]
    public void FromMetadata_DynamicFeatureDimension_ThrowsNamingTheInput()
    {
        var metadata = new ModelMetadataResponse { Name = "m" };
        metadata.Inputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = "features", Datatype = "FP32", Shape = { -1, -1 } });

        var error = Assert.Throws<InvalidOperationException>(() => ModelInputShape.FromMetadata(metadata));

        Assert.Contains("features", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForAsync_NoModelHost_FailsAfterTheBoundedWaitNamingTheSetting()
    {
        // A port that was just free: nothing answers there.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var pool = new ModelEndpointPool();
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(pool.GetChannel($"http://127.0.0.1:{port}"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ModelMetadataWaiter.WaitForAsync(client, "iris-logreg", "1", TimeSpan.FromSeconds(1), _ => { }, CancellationToken.None));

        Assert.Contains("Router:ModelWaitSeconds", error.Message, StringComparison.Ordinal);
        Assert.Contains("Unavailable", error.Message, StringComparison.Ordinal);
    }
}
