using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Mesh.Consumer.Tests;

internal static class Records
{
    public static Prediction Prediction(string requestId) => new()
    {
        RequestId = requestId,
        EntityId = "entity-3",
        Experiment = "iris-ab",
        Arm = "logreg",
        ModelName = "iris-logreg",
        ModelVersion = "1",
        Output = new PredictionOutput { Label = "setosa", Scores = { 0.9f, 0.05f, 0.05f }, ClassNames = { "setosa", "versicolor", "virginica" } },
        AssignmentProbability = 0.5,
        PolicyVersion = "w1",
        Latency = new Latency { QueueMs = 0.5, InferenceMs = 1.25, EndToEndMs = 2.5 },
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        EventTime = Timestamp.FromDateTime(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)),
        Context = { ["region"] = "eu" },
    };

    public static ConsumeResult<byte[], byte[]> Consumed(string topic, int partition, long offset, byte[] value, Headers? headers = null) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        Message = new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = value, Headers = headers ?? MeshHeaders.Create<Prediction>(null) },
    };

    public static ConsumeResult<byte[], byte[]> Consumed(string topic, int partition, long offset, Prediction prediction) =>
        Consumed(topic, partition, offset, prediction.ToByteArray());
}
