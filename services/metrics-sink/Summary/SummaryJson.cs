using System.Text.Json;

namespace Mesh.MetricsSink.Summary;

internal static class SummaryJson
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string Serialize(SummaryDocument document) => JsonSerializer.Serialize(document, s_options);

    public static SummaryDocument? Deserialize(string json) => JsonSerializer.Deserialize<SummaryDocument>(json, s_options);
}
