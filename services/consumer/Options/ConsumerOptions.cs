using System.ComponentModel.DataAnnotations;

namespace Mesh.Consumer.Options;

/// <summary>Where predictions are read from and written to (configuration section <c>Consumer</c>).</summary>
internal sealed class ConsumerOptions : IValidatableObject
{
    public const string SectionName = "Consumer";

    /// <summary>
    /// <c>stdout</c> (or <c>-</c>), or a file path (relative to the current directory). Without rolling, lines are
    /// appended to that file; with rolling, files are named after it with the time they were opened.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Consumer:Output is required: 'stdout' or a file path.")]
    public string Output { get; set; } = "stdout";

    /// <summary><c>jsonl</c> (protobuf JSON, one prediction a line), <c>csv</c>, <c>parquet</c> or <c>table</c> (a live table in the terminal).</summary>
    public string Format { get; set; } = "jsonl";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Consumer:GroupId must not be empty.")]
    public string GroupId { get; set; } = "mesh-consumer";

    /// <summary>Comma-separated topics; when empty, <see cref="Source"/> picks them.</summary>
    public string? Topics { get; set; }

    /// <summary><c>primary</c> (the predictions topic), <c>shadow</c> (shadow predictions) or <c>both</c>.</summary>
    public string Source { get; set; } = "primary";

    /// <summary>Comma-separated experiments to keep; empty keeps all.</summary>
    public string? Experiment { get; set; }

    /// <summary>Comma-separated arms to keep; empty keeps all.</summary>
    public string? Arm { get; set; }

    /// <summary>Comma-separated model names to keep; empty keeps all.</summary>
    public string? Model { get; set; }

    /// <summary>How often written lines are flushed and their offsets stored while records keep arriving.</summary>
    [Range(1, 60_000, ErrorMessage = "Consumer:FlushIntervalMs must be between 1 and 60,000.")]
    public int FlushIntervalMs { get; set; } = 500;

    /// <summary>Start a new file once the current one holds about this many bytes (0: never by size).</summary>
    [Range(0, long.MaxValue, ErrorMessage = "Consumer:RollMaxBytes must not be negative.")]
    public long RollMaxBytes { get; set; }

    /// <summary>Start a new file once the current one is this old (0: never by time). Parquet files close at each roll.</summary>
    [Range(0, 86_400 * 7, ErrorMessage = "Consumer:RollIntervalSeconds must be between 0 and 604,800.")]
    public int RollIntervalSeconds { get; set; }

    /// <summary>fsync files at each flush before their offsets are stored (a power cut then loses nothing either).</summary>
    public bool Fsync { get; set; } = true;

    public DeduplicationOptions Deduplication { get; set; } = new();

    public static bool IsStdout(string? output) =>
        output is null || output.Length == 0 || output == "-" || string.Equals(output, "stdout", StringComparison.OrdinalIgnoreCase);

    public OutputFormat ParsedFormat => Format.ToLowerInvariant() switch
    {
        "jsonl" or "json" => OutputFormat.JsonLines,
        "csv" => OutputFormat.Csv,
        "parquet" => OutputFormat.Parquet,
        "table" => OutputFormat.Table,
        _ => OutputFormat.Unknown,
    };

    public bool Rolls => RollMaxBytes > 0 || RollIntervalSeconds > 0;

    public IReadOnlyList<string> ResolveTopics(string predictionsTopic, string shadowTopic)
    {
        var topics = Split(Topics);
        if (topics.Length > 0)
        {
            return topics;
        }

        return Source.ToLowerInvariant() switch
        {
            "shadow" => [shadowTopic],
            "both" => [predictionsTopic, shadowTopic],
            _ => [predictionsTopic],
        };
    }

    public static string[] Split(string? list) => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ParsedFormat == OutputFormat.Unknown)
        {
            yield return new ValidationResult($"Consumer:Format '{Format}' is not one of jsonl, csv, parquet, table.");
        }

        if (Source.ToLowerInvariant() is not ("primary" or "shadow" or "both"))
        {
            yield return new ValidationResult($"Consumer:Source '{Source}' is not one of primary, shadow, both.");
        }

        if (ParsedFormat == OutputFormat.Parquet && IsStdout(Output))
        {
            yield return new ValidationResult("Consumer:Output must be a file path when Consumer:Format is parquet.");
        }

        if (Deduplication.MaxRequestIds is < 1 or > 10_000_000)
        {
            yield return new ValidationResult($"Consumer:Deduplication:MaxRequestIds must be between 1 and 10,000,000 (was {Deduplication.MaxRequestIds}).");
        }

        if (Deduplication.MaxAgeMinutes is < 0 or > 10_080)
        {
            yield return new ValidationResult($"Consumer:Deduplication:MaxAgeMinutes must be between 0 (no age bound) and 10,080 (was {Deduplication.MaxAgeMinutes}).");
        }

        if (Rolls && IsStdout(Output) && ParsedFormat != OutputFormat.Table)
        {
            yield return new ValidationResult("Consumer:RollMaxBytes and Consumer:RollIntervalSeconds need Consumer:Output to be a file path.");
        }
    }
}
