namespace Mesh.Mlflow;

/// <summary>
/// What to record for one run: the run is found by <paramref name="RunKey"/> (tag <c>mesh.run_key</c>) in
/// experiment <paramref name="Experiment"/>, or created with <paramref name="RunName"/>.
/// </summary>
/// <param name="Experiment">The experiment's name (created when missing).</param>
/// <param name="RunKey">Identifies the run across restarts and replicas.</param>
/// <param name="RunName">The run's display name when it is created.</param>
/// <param name="Params">Params (logged once per run by this writer; MLflow refuses changing them).</param>
/// <param name="Tags">Tags (the latest value wins).</param>
/// <param name="Metrics">Metric values.</param>
public sealed record TrackingRecord(
    string Experiment,
    string RunKey,
    string RunName,
    IReadOnlyList<MlflowKeyValue> Params,
    IReadOnlyList<MlflowKeyValue> Tags,
    IReadOnlyList<MlflowMetric> Metrics);
