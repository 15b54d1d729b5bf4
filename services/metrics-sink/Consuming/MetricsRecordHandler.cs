using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.Kafka.SchemaRegistry;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Drift;
using Mesh.MetricsSink.Page;
using Mesh.MetricsSink.Promotion;
using Mesh.MetricsSink.Telemetry;

namespace Mesh.MetricsSink.Consuming;

/// <summary>
/// Decodes a record by its topic (labels topic → Label, dead-letter topic → DeadLetter, the prediction topics →
/// Prediction), framed in Confluent's wire format or plain, and applies it to the join. Transport-free so it is
/// tested without Kafka.
/// </summary>
internal sealed class MetricsRecordHandler(PredictionLabelJoiner joiner, string labelsTopic, string? deadLetterTopic = null, WireFormatReader? reader = null, DriftMonitor? drift = null, RegisteredModelNames? modelNames = null, JoinTracer? tracer = null, ShedTally? shedding = null)
{
    private readonly WireFormatReader _reader = reader ?? WireFormatReader.Unchecked;

    /// <summary>The <c>service</c> of the dead letters that count: the router's (RouterExtensions.ServiceName).</summary>
    public const string RouterService = "router";

    public HandleResult Handle(ConsumeResult<byte[], byte[]> record)
    {
        var value = record.Message.Value ?? [];
        if (record.Topic == deadLetterTopic)
        {
            return HandleDeadLetter(record.Topic, value);
        }

        var origin = string.Concat(record.Topic, "/", record.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

        try
        {
            if (record.Topic == labelsTopic)
            {
                var label = _reader.Decode<Label>(record.Topic, value);
                var labelTrace = tracer is null ? null : JoinTracer.Capture(record);
                var joinedPredictions = labelTrace is null ? null : new List<RecordTrace>();
                var labelOutcome = joiner.AddLabel(label, origin, labelTrace, joinedPredictions);
                if (labelTrace is not null)
                {
                    Trace(tracer!, labelTrace, labelOutcome, joinedPredictions!, labelCompletes: true);
                }

                return new HandleResult(true, true, labelOutcome, "");
            }

            var prediction = _reader.Decode<Prediction>(record.Topic, value);
            if (prediction.RequestId.Length == 0 || prediction.Arm.Length == 0)
            {
                return HandleResult.Undecodable("a mesh.v1.Prediction needs request_id and arm");
            }

            // Before drift, which looks up the arm's reference profile by the registered model at its first record.
            modelNames?.Observe(prediction);
            // Drift needs no label: every Prediction counts, a redelivered one too (one record more in a window's bins).
            drift?.Observe(prediction);
            shedding?.Observe(prediction);
            var trace = tracer is null ? null : JoinTracer.Capture(prediction, record);
            var joinedLabels = trace is null ? null : new List<RecordTrace>(1);
            var outcome = joiner.AddPrediction(prediction, origin, trace, joinedLabels);
            if (trace is not null)
            {
                Trace(tracer!, trace, outcome, joinedLabels!, labelCompletes: false);
            }

            return new HandleResult(true, false, outcome, "");
        }
        catch (InvalidProtocolBufferException e)
        {
            return HandleResult.Undecodable($"not a mesh.v1.{(record.Topic == labelsTopic ? "Label" : "Prediction")}: {e.Message}");
        }
        catch (UndecodableValueException e)
        {
            // Its message names the schema id and the subject.
            return HandleResult.Undecodable(e.Message);
        }
    }

    // A record that completed a join gets its span now, linked to the partners the join handed back; one that waits
    // (here or for Redis) keeps its trace in the join, for the span of the join its partner completes.
    private static void Trace(JoinTracer tracer, RecordTrace trace, JoinOutcome outcome, List<RecordTrace> partners, bool labelCompletes)
    {
        if (outcome == JoinOutcome.Joined)
        {
            if (labelCompletes)
            {
                tracer.LabelJoined(trace, partners);
            }
            else
            {
                tracer.PredictionJoined(trace, partners);
            }
        }
        else if (outcome is JoinOutcome.Pending or JoinOutcome.Deferred)
        {
            tracer.Waiting(trace);
        }
    }

    // Only the router's dead letters are records an experiment owed a Prediction for; the consumer's and this
    // sink's own (the same topic) are about other things, and a record of this topic is never dead-lettered again
    // (it would come straight back).
    private HandleResult HandleDeadLetter(string topic, byte[] value)
    {
        DeadLetter letter;
        try
        {
            letter = _reader.Decode<DeadLetter>(topic, value);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or UndecodableValueException)
        {
            return new HandleResult(true, false, default, $"not a mesh.v1.DeadLetter: {e.Message}") { IsDeadLetter = true };
        }

        if (letter.Service != RouterService)
        {
            return new HandleResult(true, false, default, "") { IsDeadLetter = true };
        }

        joiner.AddDeadLetter(letter.Experiment, letter.Arm);
        return new HandleResult(true, false, default, "") { IsDeadLetter = true, DeadLetter = letter };
    }
}
