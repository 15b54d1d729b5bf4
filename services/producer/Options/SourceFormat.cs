namespace Mesh.Producer.Options;

internal enum SourceFormat
{
    Unknown,
    Csv,
    JsonLines,
    Parquet,
    Synthetic,
}
