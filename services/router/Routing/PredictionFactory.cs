using Mesh.Contracts.V1;
using Mesh.Router.Experiments;
using Mesh.Router.Inference;
using ProtoTimestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Mesh.Router.Routing;

/// <summary>Builds the Prediction for one row of a model answer.</summary>
internal static class PredictionFactory
{
    public static Prediction Create(RoutedRecord record, ArmIdentity arm, double probability, string policyVersion, InferenceOutput output, int row, double inferenceMs, DateTime predictedAt)
    {
        var prediction = CreateEmpty(
            record,
            arm.Experiment,
            arm.Arm,
            output.ModelName.Length > 0 ? output.ModelName : arm.Model,
            output.ModelVersion.Length > 0 ? output.ModelVersion : arm.Version,
            probability,
            policyVersion,
            inferenceMs,
            predictedAt);
        prediction.ModelUri = arm.ModelUri;
        prediction.Output.Label = output.LabelOf(row);
        // Sized once, where adding score by score grew the array from 8.
        var scores = output.ScoresOf(row);
        prediction.Output.Scores.Capacity = scores.Length;
        foreach (var score in scores)
        {
            prediction.Output.Scores.Add(score);
        }
        prediction.Output.ClassNames.AddRange(output.ClassNames);
        return prediction;
    }

    /// <summary>Everything but the output.</summary>
    public static Prediction CreateEmpty(RoutedRecord record, string experiment, string arm, string model, string version, double probability, string policyVersion, double inferenceMs, DateTime predictedAt)
    {
        var feature = record.Feature ?? throw new InvalidOperationException("A record without a decoded FeatureRecord cannot be predicted.");
        var prediction = new Prediction
        {
            RequestId = feature.RequestId,
            EntityId = feature.EntityId,
            Experiment = experiment,
            Arm = arm,
            ModelName = model,
            ModelVersion = version,
            Output = new PredictionOutput(),
            AssignmentProbability = probability,
            PolicyVersion = policyVersion,
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
        // MapField.Add enumerates its argument, an allocation per Prediction even when the record has no context.
        if (feature.Context.Count > 0)
        {
            prediction.Context.Add(feature.Context);
        }

        prediction.Features.Add(feature.Values);
        prediction.FeatureNames.Add(feature.Names);
        return prediction;
    }
}
