using System.Globalization;

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
}

/// <summary>A row that was skipped, with where it is (file and line, or row for Parquet) and why.</summary>
internal sealed record CsvRowError(string File, int LineNumber, string Reason)
{
    public override string ToString() => $"{File}:{LineNumber}: {Reason}";
}

/// <summary>The rows of a source file: feature names, good rows and skipped ones.</summary>
internal sealed record FeatureTable(string File, IReadOnlyList<string> FeatureNames, IReadOnlyList<FeatureRow> Rows, IReadOnlyList<CsvRowError> Errors);

/// <summary>
/// Reads a simple comma-separated file with a header. Columns are mapped by <see cref="ColumnMapping"/>: without
/// a feature list, every column but the label and id columns is a numeric feature. Quoted fields are not
/// supported (feature files are numeric).
/// </summary>
internal static class CsvFeatureReader
{
    public static FeatureTable Read(string path, string labelColumn) => Read(path, ColumnMapping.LabelOnly(labelColumn));

    public static FeatureTable Read(string path, ColumnMapping mapping) => Parse(path, File.ReadLines(path), mapping);

    public static FeatureTable Parse(string source, IEnumerable<string> lines, string labelColumn) =>
        Parse(source, lines, ColumnMapping.LabelOnly(labelColumn));

    public static FeatureTable Parse(string source, IEnumerable<string> lines, ColumnMapping mapping)
    {
        TableBuilder? table = null;
        var lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var cells = line.Split(',');
            for (var i = 0; i < cells.Length; i++)
            {
                cells[i] = cells[i].Trim();
            }

            if (table is null)
            {
                table = new TableBuilder(source, lineNumber, cells, mapping);
                continue;
            }

            if (cells.Length != table.ColumnCount)
            {
                table.Skip(lineNumber, $"expected {table.ColumnCount} columns, found {cells.Length}");
                continue;
            }

            table.Add(lineNumber, cells);
        }

        return table?.Build() ?? throw new InvalidDataException($"{source}: the file is empty (a header line is expected).");
    }
}
