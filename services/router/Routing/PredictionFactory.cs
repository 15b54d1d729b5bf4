using Mesh.Contracts.V1;
using Mesh.Router.Experiments;
using Mesh.Router.Inference;
using ProtoTimestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Mesh.Router.Routing;

/// <summary>Builds the Prediction for one row of a model answer.</summary>
internal static class PredictionFactory
{
    /// <summary>The Prediction of one row; <paramref name="postProcessor"/> is the answering arm's <c>postProcess:</c>.</summary>
    public static Prediction Create(RoutedRecord record, ArmIdentity arm, double probability, string policyVersion, InferenceOutput output, int row, double inferenceMs, DateTime predictedAt, OutputPostProcessor? postProcessor = null)
    {
        var prediction = new Prediction();
        Fill(prediction, record, arm, probability, policyVersion, output, row, inferenceMs, predictedAt, postProcessor);
        return prediction;
    }

    /// <summary>
    /// Sets every field of <paramref name="prediction"/> for one row, whatever a previous row left in it: a batch
    /// serializes its rows one by one through one Prediction, where a new message per row cost about ten objects
    /// (its maps, lists, arrays, latency and timestamps) on every output.
    /// </summary>
    public static void Fill(Prediction prediction, RoutedRecord record, ArmIdentity arm, double probability, string policyVersion, InferenceOutput output, int row, double inferenceMs, DateTime predictedAt, OutputPostProcessor? postProcessor = null)
    {
        FillEmpty(
            prediction,
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
        if (postProcessor is not null)
        {
            // The output was cleared above: the arm's postProcess writes it from the model's answer.
            postProcessor.Write(prediction.Output, output, row);
            return;
        }

        prediction.Output.Label = output.LabelOf(row);
        var scores = output.ScoresOf(row);
        var target = prediction.Output.Scores;
        // Sized once, where adding score by score grew the array from 8.
        target.Capacity = Math.Max(target.Capacity, scores.Length);
        foreach (var score in scores)
        {
            target.Add(score);
        }

        prediction.Output.ClassNames.AddRange(output.ClassNames);
    }

    /// <summary>Everything but the output.</summary>
    public static Prediction CreateEmpty(RoutedRecord record, string experiment, string arm, string model, string version, double probability, string policyVersion, double inferenceMs, DateTime predictedAt)
    {
        var prediction = new Prediction();
        FillEmpty(prediction, record, experiment, arm, model, version, probability, policyVersion, inferenceMs, predictedAt);
        return prediction;
    }

    private static void FillEmpty(Prediction prediction, RoutedRecord record, string experiment, string arm, string model, string version, double probability, string policyVersion, double inferenceMs, DateTime predictedAt)
    {
        var feature = record.Feature ?? throw new InvalidOperationException("A record without a decoded FeatureRecord cannot be predicted.");
        prediction.RequestId = feature.RequestId;
        prediction.EntityId = feature.EntityId;
        prediction.Experiment = experiment;
        prediction.Arm = arm;
        prediction.ModelName = model;
        prediction.ModelVersion = version;
        prediction.ModelUri = "";
        prediction.Shadow = false;
        prediction.Fallback = false;
        prediction.RoutingReason = "";
        prediction.AssignmentProbability = probability;
        prediction.PolicyVersion = policyVersion;
        prediction.TraceId = record.TraceId;

        var result = prediction.Output ??= new PredictionOutput();
        result.Label = "";
        result.Value = 0;
        result.Scores.Clear();
        result.ClassNames.Clear();

        var latency = prediction.Latency ??= new Latency();
        latency.QueueMs = (record.ConsumedAt - record.EventTime).TotalMilliseconds;
        latency.InferenceMs = inferenceMs;
        latency.EndToEndMs = (predictedAt - record.EventTime).TotalMilliseconds;

        prediction.EventTime = SetTime(prediction.EventTime, record.EventTime);
        prediction.PredictedTime = SetTime(prediction.PredictedTime, predictedAt);

        prediction.Context.Clear();
        // MapField.Add enumerates its argument, an allocation per Prediction even when the record has no context.
        if (feature.Context.Count > 0)
        {
            prediction.Context.Add(feature.Context);
        }

        prediction.Features.Clear();
        prediction.Features.Add(feature.Values);
        prediction.FeatureNames.Clear();
        prediction.FeatureNames.Add(feature.Names);
    }

    /// <summary><paramref name="time"/> in <paramref name="timestamp"/> (reused), as <see cref="ProtoTimestamp.FromDateTime"/> writes it.</summary>
    private static ProtoTimestamp SetTime(ProtoTimestamp? timestamp, DateTime time)
    {
        var ticks = time.Ticks - DateTime.UnixEpoch.Ticks;
        if (timestamp is null || time.Kind != DateTimeKind.Utc || ticks < 0)
        {
            // FromDateTime refuses a time that is not UTC, as it always did, and knows how to write one before 1970.
            return ProtoTimestamp.FromDateTime(time);
        }

        timestamp.Seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainder);
        timestamp.Nanos = (int)(remainder * 100);
        return timestamp;
    }
}
