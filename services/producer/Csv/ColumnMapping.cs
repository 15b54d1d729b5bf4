using Mesh.Producer.Options;

namespace Mesh.Producer.Csv;

/// <summary>Which columns of a source file hold what (settings <c>Producer:LabelColumn</c> and <c>Producer:Columns:*</c>).</summary>
internal sealed record ColumnMapping(string Label, string? EntityId, string? RequestId, string? EventTime, IReadOnlyList<string> Features)
{
    /// <summary>Columns carried on each Label as named outcomes (<c>Producer:Columns:Outcomes</c>).</summary>
    public IReadOnlyList<string> Outcomes { get; init; } = [];

    public static ColumnMapping LabelOnly(string label) => new(label, null, null, null, []);

    public static ColumnMapping From(ProducerOptions o) => new(
        o.LabelColumn,
        NullIfEmpty(o.Columns.EntityId),
        NullIfEmpty(o.Columns.RequestId),
        NullIfEmpty(o.Columns.EventTime),
        (o.Columns.Features ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
    {
        Outcomes = (o.Columns.Outcomes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
