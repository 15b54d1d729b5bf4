using Mesh.Contracts.V1;
using Mesh.Router.Inference;
using ProtoTimestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Mesh.Router.Routing;

/// <summary>Builds the Prediction for one row of a model answer.</summary>
internal static class PredictionFactory
{
    public static Prediction Create(RoutedRecord record, ArmIdentity arm, InferenceOutput output, int row, double inferenceMs, DateTime predictedAt)
    {
        var feature = record.Feature ?? throw new InvalidOperationException("A record without a decoded FeatureRecord cannot be predicted.");
        var prediction = new Prediction
        {
            RequestId = feature.RequestId,
            EntityId = feature.EntityId,
            Experiment = arm.Experiment,
            Arm = arm.Arm,
            ModelName = output.ModelName.Length > 0 ? output.ModelName : arm.Model,
            ModelVersion = output.ModelVersion.Length > 0 ? output.ModelVersion : arm.Version,
            Output = new PredictionOutput { Label = output.LabelOf(row) },
            AssignmentProbability = arm.AssignmentProbability,
            PolicyVersion = arm.PolicyVersion,
            Latency = new Latency
            {
                QueueMs = (record.ConsumedAt - record.EventTime).TotalMilliseconds,
                InferenceMs = inferenceMs,
                EndToEndMs = (predictedAt - record.EventTime).TotalMilliseconds,
            },
            TraceId = record.TraceId,
            EventTime = ProtoTimestamp.FromDateTime(record.EventTime),
            PredictedTime = ProtoTimestamp.FromDateTime(predictedAt),
        };
        foreach (var score in output.ScoresOf(row))
        {
            prediction.Output.Scores.Add(score);
        }

        prediction.Output.ClassNames.AddRange(output.ClassNames);
        prediction.Context.Add(feature.Context);
        return prediction;
    }
}
