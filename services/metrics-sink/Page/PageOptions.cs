using System.ComponentModel.DataAnnotations;

namespace Mesh.MetricsSink.Page;

/// <summary>How the experiment page samples the running counts (configuration section <c>MetricsSink:Page</c>).</summary>
internal sealed class PageOptions
{
    public const string SectionName = "MetricsSink:Page";

    /// <summary>How often the counts are sampled into the page's time series.</summary>
    [Range(100, 60_000, ErrorMessage = "MetricsSink:Page:SampleIntervalMs must be between 100 and 60,000.")]
    public int SampleIntervalMs { get; set; } = 1000;

    /// <summary>Samples kept (the oldest are dropped): memory stays bounded however long the sink runs.</summary>
    [Range(10, 100_000, ErrorMessage = "MetricsSink:Page:MaxSamples must be between 10 and 100,000.")]
    public int MaxSamples { get; set; } = 900;

    /// <summary>
    /// Where people open the MLflow UI, when it is not the tracking URI the sink writes to (an in-cluster service name
    /// a browser cannot reach): each arm on the page links to its run there. Unset: the tracking URI, when it is http(s).
    /// </summary>
    [Url(ErrorMessage = "MetricsSink:Page:TrackingUiUrl must be an absolute http or https URL.")]
    public string? TrackingUiUrl { get; set; }
}
