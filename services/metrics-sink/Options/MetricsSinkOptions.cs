using System.ComponentModel.DataAnnotations;

namespace Mesh.MetricsSink.Options;

/// <summary>How predictions and labels are joined and where the summary goes (configuration section <c>MetricsSink</c>).</summary>
internal sealed class MetricsSinkOptions
{
    public const string SectionName = "MetricsSink";

    /// <summary>Folder of <c>summary.json</c> and its README; <c>~</c> is the home folder, relative paths the current directory.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:TrackingDir must not be empty.")]
    public string TrackingDir { get; set; } = "~/.mesh/tracking";

    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:GroupId must not be empty.")]
    public string GroupId { get; set; } = "mesh-metrics-sink";

    /// <summary>How long a prediction waits for its label (and a label for its prediction) before it counts as unmatched.</summary>
    [Range(1, 604_800, ErrorMessage = "MetricsSink:JoinWindowSeconds must be between 1 and 604,800 (a week).")]
    public int JoinWindowSeconds { get; set; } = 600;

    /// <summary>Most request ids held in memory; the oldest are evicted beyond it, so memory stays bounded under any lag.</summary>
    [Range(1, 50_000_000, ErrorMessage = "MetricsSink:MaxPending must be between 1 and 50,000,000.")]
    public int MaxPending { get; set; } = 200_000;

    [Range(50, 600_000, ErrorMessage = "MetricsSink:FlushIntervalMs must be between 50 and 600,000.")]
    public int FlushIntervalMs { get; set; } = 1000;

    public string ResolveTrackingDir()
    {
        var dir = TrackingDir;
        if (dir == "~" || dir.StartsWith("~/", StringComparison.Ordinal))
        {
            dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), dir.Length > 2 ? dir[2..] : "");
        }

        return Path.GetFullPath(dir, Directory.GetCurrentDirectory());
    }
}
