using System.Collections.Concurrent;
using Mesh.Mlflow;

namespace Mesh.MetricsSink.Summary;

/// <summary>
/// Each arm's MLflow run as a link into the MLflow UI (<c>{ui}/#/experiments/{experiment id}/runs/{run id}</c>, the
/// route MLflow's UI serves a run on), for the page and the summary. Known once the window closer has written the
/// arm's first window; none while the sink writes to its local tracking folder, which has no UI of its own.
/// </summary>
internal sealed class RunLinks(TrackingWriter writer, Uri? ui)
{
    private readonly ConcurrentDictionary<(string Experiment, string Arm, bool Shadow), string> _runKeys = new();
    private readonly string? _base = ui?.AbsoluteUri.TrimEnd('/');

    /// <summary>The UI to link to: the page's setting, else the tracking URI when a browser could open it (http or https).</summary>
    public static Uri? UiOf(string? uiSetting, Uri? trackingUri) =>
        uiSetting is { Length: > 0 } configured ? new Uri(configured)
        : trackingUri is { Scheme: "http" or "https" } ? trackingUri
        : null;

    public void Remember(string experiment, string arm, bool shadow, string runKey) => _runKeys[(experiment, arm, shadow)] = runKey;

    public string? UrlOf(string experiment, string arm, bool shadow) =>
        _base is not null && _runKeys.TryGetValue((experiment, arm, shadow), out var key) && writer.TryGetRun(experiment, key, out var experimentId, out var runId)
            ? $"{_base}/#/experiments/{Uri.EscapeDataString(experimentId)}/runs/{Uri.EscapeDataString(runId)}"
            : null;

    /// <summary>The document with each arm's <see cref="ArmSummary.RunUrl"/> filled where it is known.</summary>
    public SummaryDocument WithRunUrls(SummaryDocument document) =>
        _base is null ? document : document with
        {
            Experiments = [.. document.Experiments.Select(e => e with
            {
                Arms = [.. e.Arms.Select(a => UrlOf(e.Experiment, a.Arm, a.Shadow) is { } url ? a with { RunUrl = url } : a)],
            })],
        };
}
