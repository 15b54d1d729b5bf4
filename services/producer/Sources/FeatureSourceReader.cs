using Mesh.Producer.Csv;
using Mesh.Producer.Options;

namespace Mesh.Producer.Sources;

/// <summary>Reads the rows <c>Producer:Format</c> and <c>Producer:File</c> name.</summary>
internal static class FeatureSourceReader
{
    public static FeatureTable Read(ProducerOptions o)
    {
        var mapping = ColumnMapping.From(o);
        return o.ResolveFormat() switch
        {
            SourceFormat.Synthetic => SyntheticFeatureSource.Generate(o.SyntheticRows, o.Seed),
            SourceFormat.JsonLines => JsonLinesFeatureReader.Read(o.ResolveFile(), mapping),
            SourceFormat.Parquet => ParquetFeatureReader.Read(o.ResolveFile(), mapping),
            _ => CsvFeatureReader.Read(o.ResolveFile(), mapping),
        };
    }
}
