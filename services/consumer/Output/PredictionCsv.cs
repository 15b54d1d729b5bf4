using System.Globalization;
using System.Text;
using Mesh.Contracts.V1;

namespace Mesh.Consumer.Output;

/// <summary>One Prediction as one RFC 4180 CSV row, with the columns data teams ask for first.</summary>
internal static class PredictionCsv
{
    public const string Header =
        "request_id,entity_id,experiment,arm,model_name,model_version,shadow,fallback,label,value,scores,class_names," +
        "assignment_probability,policy_version,queue_ms,inference_ms,end_to_end_ms,event_time,predicted_time,trace_id";

    [ThreadStatic]
    private static StringBuilder? t_builder;

    public static string Format(Prediction p)
    {
        var b = t_builder ??= new StringBuilder(256);
        b.Clear();
        Text(b, p.RequestId).Append(',');
        Text(b, p.EntityId).Append(',');
        Text(b, p.Experiment).Append(',');
        Text(b, p.Arm).Append(',');
        Text(b, p.ModelName).Append(',');
        Text(b, p.ModelVersion).Append(',');
        b.Append(p.Shadow ? "true" : "false").Append(',');
        b.Append(p.Fallback ? "true" : "false").Append(',');
        Text(b, p.Output?.Label ?? "").Append(',');
        Number(b, p.Output?.Value ?? 0).Append(',');
        // Lists inside one cell, separated by spaces: no quoting needed, and split(' ') reads them back.
        if (p.Output is { } output)
        {
            for (var i = 0; i < output.Scores.Count; i++)
            {
                b.Append(i == 0 ? "" : " ").Append(output.Scores[i].ToString("R", CultureInfo.InvariantCulture));
            }

            b.Append(',');
            Text(b, string.Join(' ', output.ClassNames)).Append(',');
        }
        else
        {
            b.Append(",,");
        }

        Number(b, p.AssignmentProbability).Append(',');
        Text(b, p.PolicyVersion).Append(',');
        Number(b, p.Latency?.QueueMs ?? 0).Append(',');
        Number(b, p.Latency?.InferenceMs ?? 0).Append(',');
        Number(b, p.Latency?.EndToEndMs ?? 0).Append(',');
        Time(b, p.EventTime).Append(',');
        Time(b, p.PredictedTime).Append(',');
        Text(b, p.TraceId);
        return b.ToString();
    }

    private static StringBuilder Text(StringBuilder b, string value)
    {
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return b.Append(value);
        }

        return b.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    private static StringBuilder Number(StringBuilder b, double value) => b.Append(value.ToString("R", CultureInfo.InvariantCulture));

    private static StringBuilder Time(StringBuilder b, Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? b : b.Append(time.ToDateTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
}
