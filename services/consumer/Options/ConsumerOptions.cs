using System.ComponentModel.DataAnnotations;

namespace Mesh.Consumer.Options;

/// <summary>Where predictions are read from and written to (configuration section <c>Consumer</c>).</summary>
internal sealed class ConsumerOptions
{
    public const string SectionName = "Consumer";

    /// <summary><c>stdout</c> (or <c>-</c>), or a file path (relative to the current directory) that JSON lines are appended to.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Consumer:Output is required: 'stdout' or a file path.")]
    public string Output { get; set; } = "stdout";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Consumer:GroupId must not be empty.")]
    public string GroupId { get; set; } = "mesh-consumer";

    /// <summary>Comma-separated topics; empty means the predictions topic (<c>Kafka:Topics:Predictions</c>).</summary>
    public string? Topics { get; set; }

    /// <summary>How often written lines are flushed and their offsets stored while records keep arriving.</summary>
    [Range(1, 60_000, ErrorMessage = "Consumer:FlushIntervalMs must be between 1 and 60,000.")]
    public int FlushIntervalMs { get; set; } = 500;

    public static bool IsStdout(string? output) =>
        output is null || output.Length == 0 || output == "-" || string.Equals(output, "stdout", StringComparison.OrdinalIgnoreCase);

    public IReadOnlyList<string> ResolveTopics(string predictionsTopic)
    {
        var topics = (Topics ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return topics.Length == 0 ? [predictionsTopic] : topics;
    }
}
