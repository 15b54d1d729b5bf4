namespace Mesh.Producer.Options;

/// <summary>Column mapping (section <c>Producer:Columns</c>); a name the file lacks stops the run naming the setting.</summary>
internal sealed class ColumnOptions
{
    public string? EntityId { get; set; }

    public string? RequestId { get; set; }

    public string? EventTime { get; set; }

    /// <summary>Comma-separated feature columns, in order; empty: every column not mapped to something else.</summary>
    public string? Features { get; set; }

    /// <summary>
    /// Comma-separated numeric columns each Label carries as a named outcome (<c>Label.outcomes</c>, docs/outcomes.md),
    /// never as features; an empty cell leaves the outcome out of that label.
    /// </summary>
    public string? Outcomes { get; set; }
}
