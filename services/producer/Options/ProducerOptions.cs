using System.ComponentModel.DataAnnotations;

namespace Mesh.Producer.Options;

/// <summary>What to publish and how fast (configuration section <c>Producer</c>).</summary>
internal sealed class ProducerOptions
{
    public const string SectionName = "Producer";

    /// <summary>The source file (CSV, JSON lines or Parquet); a relative path is resolved against the current directory, not the content root.</summary>
    public string? File { get; set; }

    /// <summary><c>csv</c>, <c>jsonl</c>, <c>parquet</c> or <c>synthetic</c> (no file); empty: from the file's extension.</summary>
    public string? Format { get; set; }

    /// <summary>Which columns hold the entity id, request id, event time and features (the label: <see cref="LabelColumn"/>).</summary>
    public ColumnOptions Columns { get; set; } = new();

    /// <summary>Rows the synthetic source generates (cycled over for longer runs).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Producer:SyntheticRows must be between 1 and 10,000,000.")]
    public int SyntheticRows { get; set; } = 1000;

    /// <summary><c>skip</c> (count and log bad rows, publish the rest) or <c>stop</c> (refuse to publish a file with a bad row).</summary>
    public string OnBadRow { get; set; } = "skip";

    /// <summary>The load shape: <c>constant</c> (<see cref="Rate"/>), <c>step</c>, <c>ramp</c> or <c>burst</c> (the seed's Locust shapes).</summary>
    public string Profile { get; set; } = "constant";

    /// <summary>Ramp: the rate reached after <see cref="RampSeconds"/>; burst: the rate during a burst.</summary>
    [Range(0, 10_000_000, ErrorMessage = "Producer:PeakRate must be between 0 and 10,000,000 records/s.")]
    public double PeakRate { get; set; }

    /// <summary>Step: records/s added every <see cref="StepSeconds"/>.</summary>
    [Range(0, 10_000_000, ErrorMessage = "Producer:StepRate must be between 0 and 10,000,000 records/s.")]
    public double StepRate { get; set; }

    [Range(0, 86_400, ErrorMessage = "Producer:StepSeconds must be between 0 and 86,400.")]
    public double StepSeconds { get; set; } = 10;

    [Range(0, 86_400, ErrorMessage = "Producer:RampSeconds must be between 0 and 86,400.")]
    public double RampSeconds { get; set; } = 30;

    /// <summary>Burst: how long each burst lasts, at the start of every <see cref="BurstEverySeconds"/>.</summary>
    [Range(0, 86_400, ErrorMessage = "Producer:BurstSeconds must be between 0 and 86,400.")]
    public double BurstSeconds { get; set; } = 2;

    [Range(0, 86_400, ErrorMessage = "Producer:BurstEverySeconds must be between 0 and 86,400.")]
    public double BurstEverySeconds { get; set; } = 10;

    /// <summary>Each label's delay is <see cref="LabelDelayMs"/> plus a uniform random part up to this (0: fixed delay).</summary>
    [Range(0, 3_600_000, ErrorMessage = "Producer:LabelDelayJitterMs must be between 0 and 3,600,000.")]
    public int LabelDelayJitterMs { get; set; }

    /// <summary><c>auto</c> (a progress bar when standard error is a terminal, else a log line a second), <c>on</c> or <c>off</c>.</summary>
    public string ProgressBar { get; set; } = "auto";

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

    /// <summary>A mean shift of one feature from a given record on, to reproduce drift (off by default).</summary>
    public DriftInjectionOptions Drift { get; set; } = new();

    /// <summary>Prefix of the request ids; a fresh one per run when empty, so reruns never reuse ids.</summary>
    public string? RunId { get; set; }

    public string ResolveFile() => Path.GetFullPath(File ?? "", Directory.GetCurrentDirectory());

    public SourceFormat ResolveFormat() => (Format ?? "").Trim().ToLowerInvariant() switch
    {
        "csv" => SourceFormat.Csv,
        "jsonl" or "json" or "ndjson" => SourceFormat.JsonLines,
        "parquet" => SourceFormat.Parquet,
        "synthetic" => SourceFormat.Synthetic,
        "" => Path.GetExtension(File ?? "").ToLowerInvariant() switch
        {
            ".jsonl" or ".json" or ".ndjson" => SourceFormat.JsonLines,
            ".parquet" => SourceFormat.Parquet,
            _ => SourceFormat.Csv,
        },
        _ => SourceFormat.Unknown,
    };
}
