using System.ComponentModel.DataAnnotations;

namespace Mesh.Producer.Options;

/// <summary>What to publish and how fast (configuration section <c>Producer</c>).</summary>
internal sealed class ProducerOptions
{
    public const string SectionName = "Producer";

    /// <summary>The CSV file; a relative path is resolved against the current directory, not the content root.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Producer:File is required: the CSV file to publish (e.g. --Producer:File=data/iris.csv).")]
    public string? File { get; set; }

    [Required(AllowEmptyStrings = false, ErrorMessage = "Producer:FeatureSet must not be empty.")]
    public string FeatureSet { get; set; } = "iris";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Producer:LabelColumn must not be empty.")]
    public string LabelColumn { get; set; } = "species";

    [Range(0.001, 10_000_000, ErrorMessage = "Producer:Rate must be between 0.001 and 10,000,000 records/s.")]
    public double Rate { get; set; } = 100;

    /// <summary>Records to publish; 0 means one pass over the file unless <see cref="DurationSeconds"/> is set.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "Producer:Count must not be negative.")]
    public long Count { get; set; }

    /// <summary>How long to publish (cycling over the rows); 0 means no time limit.</summary>
    [Range(0, 31_536_000, ErrorMessage = "Producer:DurationSeconds must be between 0 and one year.")]
    public double DurationSeconds { get; set; }

    [Range(1, int.MaxValue, ErrorMessage = "Producer:Entities must be at least 1.")]
    public int Entities { get; set; } = 100;

    [Range(0, 3_600_000, ErrorMessage = "Producer:LabelDelayMs must be between 0 and 3,600,000.")]
    public int LabelDelayMs { get; set; } = 1000;

    /// <summary>Whether to publish the Label of each record after <see cref="LabelDelayMs"/>.</summary>
    public bool PublishLabels { get; set; } = true;

    public int Seed { get; set; } = 42;

    /// <summary>Prefix of the request ids; a fresh one per run when empty, so reruns never reuse ids.</summary>
    public string? RunId { get; set; }

    public string ResolveFile() => Path.GetFullPath(File ?? "", Directory.GetCurrentDirectory());
}
