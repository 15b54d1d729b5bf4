using System.Globalization;

namespace Mesh.Producer.Csv;

/// <summary>One good CSV row: its feature values in column order and its label.</summary>
internal sealed record FeatureRow(int LineNumber, float[] Values, string Label);

/// <summary>A CSV row that was skipped, with where it is and why.</summary>
internal sealed record CsvRowError(string File, int LineNumber, string Reason)
{
    public override string ToString() => $"{File}:{LineNumber}: {Reason}";
}

/// <summary>The rows of a CSV file: feature names (the header without the label column), good rows and skipped ones.</summary>
internal sealed record FeatureTable(string File, IReadOnlyList<string> FeatureNames, IReadOnlyList<FeatureRow> Rows, IReadOnlyList<CsvRowError> Errors);

/// <summary>
/// Reads a simple comma-separated file with a header: every column but the label column is a numeric feature.
/// Quoted fields are not supported (feature files are numeric).
/// </summary>
internal static class CsvFeatureReader
{
    public static FeatureTable Read(string path, string labelColumn) =>
        Parse(path, File.ReadLines(path), labelColumn);

    public static FeatureTable Parse(string source, IEnumerable<string> lines, string labelColumn)
    {
        string[]? header = null;
        var labelIndex = -1;
        var rows = new List<FeatureRow>();
        var errors = new List<CsvRowError>();
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

            if (header is null)
            {
                header = cells;
                labelIndex = Array.FindIndex(header, h => string.Equals(h, labelColumn, StringComparison.OrdinalIgnoreCase));
                if (labelIndex < 0)
                {
                    throw new InvalidDataException($"{source}:{lineNumber}: the header has no label column '{labelColumn}' (Producer:LabelColumn); columns: {string.Join(", ", header)}.");
                }

                if (header.Length < 2)
                {
                    throw new InvalidDataException($"{source}:{lineNumber}: the header has no feature columns besides '{labelColumn}'.");
                }

                continue;
            }

            if (TryParseRow(cells, header, labelIndex, out var values, out var label, out var reason))
            {
                rows.Add(new FeatureRow(lineNumber, values, label));
            }
            else
            {
                errors.Add(new CsvRowError(source, lineNumber, reason));
            }
        }

        if (header is null)
        {
            throw new InvalidDataException($"{source}: the file is empty (a header line is expected).");
        }

        var names = header.Where((_, i) => i != labelIndex).ToArray();
        return new FeatureTable(source, names, rows, errors);
    }

    private static bool TryParseRow(string[] cells, string[] header, int labelIndex, out float[] values, out string label, out string reason)
    {
        values = [];
        label = "";
        if (cells.Length != header.Length)
        {
            reason = $"expected {header.Length} columns, found {cells.Length}";
            return false;
        }

        var parsed = new float[header.Length - 1];
        var next = 0;
        for (var i = 0; i < cells.Length; i++)
        {
            if (i == labelIndex)
            {
                continue;
            }

            if (cells[i].Length == 0)
            {
                reason = $"missing value for feature '{header[i]}'";
                return false;
            }

            if (!float.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
            {
                reason = $"feature '{header[i]}' is not a number: '{cells[i]}'";
                return false;
            }

            parsed[next++] = value;
        }

        if (cells[labelIndex].Length == 0)
        {
            reason = $"missing label '{header[labelIndex]}'";
            return false;
        }

        values = parsed;
        label = cells[labelIndex];
        reason = "";
        return true;
    }
}
