using System.Globalization;
using System.Text.Json.Serialization;
using Mesh.Contracts.V1;
using Parquet.Serialization;

namespace Mesh.Consumer.Output;

/// <summary>One prediction as a Parquet row (snake_case columns, as in the CSV).</summary>
internal sealed class PredictionRow
{
    [JsonPropertyName("request_id")] public string RequestId { get; set; } = "";
    [JsonPropertyName("entity_id")] public string EntityId { get; set; } = "";
    [JsonPropertyName("experiment")] public string Experiment { get; set; } = "";
    [JsonPropertyName("arm")] public string Arm { get; set; } = "";
    [JsonPropertyName("model_name")] public string ModelName { get; set; } = "";
    [JsonPropertyName("model_version")] public string ModelVersion { get; set; } = "";
    [JsonPropertyName("shadow")] public bool Shadow { get; set; }
    [JsonPropertyName("fallback")] public bool Fallback { get; set; }
    [JsonPropertyName("label")] public string Label { get; set; } = "";
    [JsonPropertyName("value")] public double Value { get; set; }
    [JsonPropertyName("scores")] public List<float> Scores { get; set; } = [];
    [JsonPropertyName("assignment_probability")] public double AssignmentProbability { get; set; }
    [JsonPropertyName("policy_version")] public string PolicyVersion { get; set; } = "";
    [JsonPropertyName("queue_ms")] public double QueueMs { get; set; }
    [JsonPropertyName("inference_ms")] public double InferenceMs { get; set; }
    [JsonPropertyName("end_to_end_ms")] public double EndToEndMs { get; set; }
    [JsonPropertyName("event_time")] public DateTime? EventTime { get; set; }
    [JsonPropertyName("predicted_time")] public DateTime? PredictedTime { get; set; }
    [JsonPropertyName("trace_id")] public string TraceId { get; set; } = "";

    public static PredictionRow From(Prediction p) => new()
    {
        RequestId = p.RequestId,
        EntityId = p.EntityId,
        Experiment = p.Experiment,
        Arm = p.Arm,
        ModelName = p.ModelName,
        ModelVersion = p.ModelVersion,
        Shadow = p.Shadow,
        Fallback = p.Fallback,
        Label = p.Output?.Label ?? "",
        Value = p.Output?.Value ?? 0,
        Scores = p.Output is null ? [] : [.. p.Output.Scores],
        AssignmentProbability = p.AssignmentProbability,
        PolicyVersion = p.PolicyVersion,
        QueueMs = p.Latency?.QueueMs ?? 0,
        InferenceMs = p.Latency?.InferenceMs ?? 0,
        EndToEndMs = p.Latency?.EndToEndMs ?? 0,
        EventTime = p.EventTime?.ToDateTime(),
        PredictedTime = p.PredictedTime?.ToDateTime(),
        TraceId = p.TraceId,
    };
}

/// <summary>
/// Predictions as Parquet files. A Parquet file is readable only once its footer is written, so rows are held
/// in memory and each roll (by <paramref name="maxBytes"/> estimated or <paramref name="maxAge"/>) writes one whole
/// file: to a temporary name, fsynced, then renamed, so readers never see half a file. Until a roll,
/// <see cref="Flush"/> says the rows are not yet kept and their offsets stay unstored.
/// </summary>
internal sealed class ParquetPredictionSink(string pathTemplate, long maxBytes, TimeSpan maxAge, TimeProvider time) : IPredictionSink
{
    // About what a row costs in memory and on disk before compression: enough to bound the buffer.
    private const int EstimatedRowBytes = 200;

    private readonly string _directory = Path.GetDirectoryName(Path.GetFullPath(pathTemplate, Directory.GetCurrentDirectory()))!;
    private readonly string _stem = Path.GetFileNameWithoutExtension(pathTemplate);
    private readonly List<PredictionRow> _rows = [];
    private long _firstRowAt;
    private int _sequence;

    public string Description => Path.Combine(_directory, $"{_stem}-<time>-<n>.parquet");

    public List<string> Written { get; } = [];

    /// <summary>Directory fsyncs done (one per file, where the OS supports it).</summary>
    public int DirectorySyncs { get; private set; }

    public void Write(Prediction prediction, byte[] raw)
    {
        if (_rows.Count == 0)
        {
            _firstRowAt = time.GetTimestamp();
        }

        _rows.Add(PredictionRow.From(prediction));
    }

    public bool Flush(bool force)
    {
        if (_rows.Count == 0)
        {
            return true;
        }

        var due = force
            || (maxBytes > 0 && (long)_rows.Count * EstimatedRowBytes >= maxBytes)
            || (maxAge > TimeSpan.Zero && time.GetElapsedTime(_firstRowAt) >= maxAge);
        if (!due)
        {
            return false;
        }

        Directory.CreateDirectory(_directory);
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string path;
        do
        {
            path = Path.Combine(_directory, $"{_stem}-{stamp}-{++_sequence:0000}.parquet");
        }
        while (File.Exists(path));

        var temporary = Path.Combine(_directory, $".{Path.GetFileName(path)}.tmp");
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            // The consume loop runs on its own thread; blocking on the library's async API is what it is for.
            ParquetSerializer.SerializeAsync(_rows, stream).GetAwaiter().GetResult();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path);
        // The rename itself is on disk before the rows' offsets are stored.
        if (DirectorySync.Flush(_directory))
        {
            DirectorySyncs++;
        }

        Written.Add(path);
        _rows.Clear();
        return true;
    }

    public void Dispose()
    {
    }
}
