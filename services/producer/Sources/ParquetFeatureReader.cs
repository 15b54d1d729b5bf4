using System.Globalization;
using Mesh.Producer.Csv;
using Parquet.Serialization;

namespace Mesh.Producer.Sources;

/// <summary>Reads a Parquet file's rows; its column names are the columns the mapping names. Rows count from 1.</summary>
internal static class ParquetFeatureReader
{
    public static FeatureTable Read(string path, ColumnMapping mapping)
    {
        using var stream = File.OpenRead(path);
        // Read once at start, before any record is sent: blocking here costs nothing.
        var result = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult();
        var header = result.Schema.GetDataFields().Select(f => f.Name).ToArray();
        var table = new TableBuilder(path, 0, header, mapping);
        var row = 0;
        foreach (var values in result.Data)
        {
            row++;
            var cells = new string?[header.Length];
            for (var i = 0; i < header.Length; i++)
            {
                cells[i] = values.TryGetValue(header[i], out var value) ? Cell(value) : null;
            }

            table.Add(row, cells);
        }

        return table.Build();
    }

    private static string? Cell(object? value) => value switch
    {
        null => null,
        DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
