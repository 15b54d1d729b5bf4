namespace Mesh.Producer.Csv;

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
