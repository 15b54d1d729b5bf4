namespace Mesh.Producer.Csv;

/// <summary>The rows of a source file: feature names, good rows and skipped ones.</summary>
internal sealed record FeatureTable(string File, IReadOnlyList<string> FeatureNames, IReadOnlyList<FeatureRow> Rows, IReadOnlyList<CsvRowError> Errors);
