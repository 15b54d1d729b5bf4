namespace Mesh.Consumer.Options;

internal enum OutputFormat
{
    Unknown,
    JsonLines,
    Csv,
    Parquet,
    Table,
}
