using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.MetricsSink.Aggregation;

namespace Mesh.MetricsSink.Consuming;

/// <summary>The result of handling one record: applied to the join state, or undecodable with the reason.</summary>
internal readonly record struct HandleResult(bool Applied, bool IsLabel, JoinOutcome Outcome, string Error)
{
    public static HandleResult Undecodable(string error) => new(false, false, default, error);
}

/// <summary>
/// Decodes a record by its topic (labels topic → Label, the prediction topics → Prediction) and applies it to
/// the join. Transport-free so it is tested without Kafka.
/// </summary>
internal sealed class MetricsRecordHandler(PredictionLabelJoiner joiner, string labelsTopic)
{
    public HandleResult Handle(ConsumeResult<byte[], byte[]> record)
    {
        var value = record.Message.Value ?? [];
        try
        {
            if (record.Topic == labelsTopic)
            {
                var label = Label.Parser.ParseFrom(value);
                return new HandleResult(true, true, joiner.AddLabel(label), "");
            }

            var prediction = Prediction.Parser.ParseFrom(value);
            if (prediction.RequestId.Length == 0 || prediction.Arm.Length == 0)
            {
                return HandleResult.Undecodable("a mesh.v1.Prediction needs request_id and arm");
            }

            return new HandleResult(true, false, joiner.AddPrediction(prediction), "");
        }
        catch (InvalidProtocolBufferException e)
        {
            return HandleResult.Undecodable($"not a mesh.v1.{(record.Topic == labelsTopic ? "Label" : "Prediction")}: {e.Message}");
        }
    }
}
