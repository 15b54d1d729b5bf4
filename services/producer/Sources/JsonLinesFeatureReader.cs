using System.Globalization;
using System.Text.Json;
using Mesh.Producer.Csv;

namespace Mesh.Producer.Sources;

/// <summary>
/// Reads one JSON object per line. The first object's property names are the columns (so a mapping names
/// properties); numbers and strings are cells, a missing property or null is a missing cell.
/// </summary>
internal static class JsonLinesFeatureReader
{
    public static FeatureTable Read(string path, ColumnMapping mapping) => Parse(path, File.ReadLines(path), mapping);

    public static FeatureTable Parse(string source, IEnumerable<string> lines, ColumnMapping mapping)
    {
        TableBuilder? table = null;
        string[] header = [];
        var lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                if (table is null)
                {
                    throw new InvalidDataException($"{source}:{lineNumber}: the first line is not JSON ({e.Message}); its properties name the columns.");
                }

                table.Skip(lineNumber, "not JSON: " + e.Message);
                continue;
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    if (table is null)
                    {
                        throw new InvalidDataException($"{source}:{lineNumber}: the first line is not a JSON object; its properties name the columns.");
                    }

                    table.Skip(lineNumber, $"not a JSON object but {root.ValueKind}");
                    continue;
                }

                if (table is null)
                {
                    header = root.EnumerateObject().Select(p => p.Name).ToArray();
                    table = new TableBuilder(source, lineNumber, header, mapping);
                }

                var cells = new string?[header.Length];
                string? problem = null;
                for (var i = 0; i < header.Length && problem is null; i++)
                {
                    if (!root.TryGetProperty(header[i], out var value))
                    {
                        continue;
                    }

                    switch (value.ValueKind)
                    {
                        case JsonValueKind.Number:
                            cells[i] = value.GetRawText();
                            break;
                        case JsonValueKind.String:
                            cells[i] = value.GetString();
                            break;
                        case JsonValueKind.True or JsonValueKind.False:
                            cells[i] = value.GetBoolean() ? "true" : "false";
                            break;
                        case JsonValueKind.Null:
                            break;
                        default:
                            problem = $"property '{header[i]}' is {value.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture)}, not a number or string";
                            break;
                    }
                }

                if (problem is not null)
                {
                    table.Skip(lineNumber, problem);
                    continue;
                }

                table.Add(lineNumber, cells);
            }
        }

        return table?.Build() ?? throw new InvalidDataException($"{source}: the file is empty (JSON objects, one a line, are expected).");
    }
}
