namespace Mesh.Producer.Csv;

/// <summary>
/// One good row: its feature values in column order and its label, and where the file maps them, its own entity
/// id, request id and event time (otherwise the producer makes them up).
/// </summary>
internal sealed record FeatureRow(int LineNumber, float[] Values, string Label)
{
    public string? EntityId { get; init; }

    public string? RequestId { get; init; }

    public DateTime? EventTime { get; init; }

    /// <summary>The row's outcome columns that had a value, by column name; null when none are mapped.</summary>
    public IReadOnlyDictionary<string, double>? Outcomes { get; init; }
}
