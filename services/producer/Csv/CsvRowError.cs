namespace Mesh.Producer.Csv;

/// <summary>A row that was skipped, with where it is (file and line, or row for Parquet) and why.</summary>
internal sealed record CsvRowError(string File, int LineNumber, string Reason)
{
    public override string ToString() => $"{File}:{LineNumber}: {Reason}";
}
