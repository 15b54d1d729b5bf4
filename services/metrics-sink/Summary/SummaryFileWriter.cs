using System.Text;

namespace Mesh.MetricsSink.Summary;

/// <summary>
/// Writes <c>summary.json</c> atomically (a temporary file renamed over the old one, so readers never see half
/// a file) and a README saying what the folder holds.
/// </summary>
internal sealed class SummaryFileWriter(string trackingDir)
{
    public const string FileName = "summary.json";

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string TrackingDir => trackingDir;

    public string SummaryPath => Path.Combine(trackingDir, FileName);

    /// <summary>Creates the folder and its README; throws when the folder cannot be written.</summary>
    public void Prepare()
    {
        Directory.CreateDirectory(trackingDir);
        File.WriteAllText(Path.Combine(trackingDir, "README.txt"), Readme, s_utf8);
    }

    public void Write(SummaryDocument document)
    {
        var temporary = Path.Combine(trackingDir, $".{FileName}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temporary, SummaryJson.Serialize(document), s_utf8);
        File.Move(temporary, SummaryPath, overwrite: true);
    }

    private const string Readme = """
        Mesh metrics sink: experiment tracking folder
        ==============================================

        summary.json  Predictions joined with their labels, per experiment and arm, rewritten about every
                      second (MetricsSink:FlushIntervalMs) by replacing the file atomically. Fields:
                        updated               when the file was written (UTC)
                        predictions, labels   distinct records seen (redelivered duplicates counted once)
                        joined                predictions matched with their label by request id
                        duplicatePredictions  redeliveries of a prediction already counted (at-least-once)
                        unmatchedLabels       labels whose prediction never came within the join window
                        pendingPredictions    predictions still waiting for their label
                        pendingLabels         labels still waiting for their prediction
                        experiments[].arms[]  per arm: model, version, shadow, predictions, joined, correct,
                                              accuracy (correct / joined), latencyP50Ms / latencyP99Ms
                                              (end-to-end, from the producer's event time), fallbacks;
                                              since start: latencyP95Ms, logLoss (when predictions carry
                                              class scores), rmse / mae (numeric labels), fallbackRate,
                                              shadowAgreement (shadows: share answering as the primary)
                                              runUrl (the arm's run in the MLflow UI, when there is one);
                                              outcomes[] (declared in the experiment spec): name,
                                              aggregate (mean | sum | rate), value, count, missing
                                              (labels without it, not counted as zero), sum, mean, rate
                        experiments[].verdict the sequential test (mSPRT, always-valid p-value): state
                                              collecting | no difference yet | winner, winner, pValue,
                                              difference, looks, alpha, text
                        drift[]               per arm, no labels needed: its reference (training profile,
                                              first records, or collecting them), per feature (worst first)
                                              the last window's PSI, KS statistic and p-value, out-of-range
                                              and missing shares, alert, and the last 30 windows' PSI
                                              (docs/drift.md in the repository)
                      The counts live in the sink's memory: they restart from zero when the sink restarts.

        How to view it:
          - the file:        cat summary.json   (or: jq . summary.json; watch -n1 cat summary.json)
          - over HTTP:       curl http://127.0.0.1:8095/api/summary   (the same JSON, computed on request)
          - Prometheus:      http://127.0.0.1:8095/metrics (mesh_metrics_sink_* counters)
          - the demo:        'mesh demo' shows it live in the terminal

        mlruns/       Without MLFLOW_TRACKING_URI: one MLflow run per experiment arm and model version, every
                      MetricsSink:WindowSeconds, in MLflow's file-store layout (see README.mlruns.txt;
                      view with: mlflow ui --backend-store-uri ./mlruns). With MLFLOW_TRACKING_URI set,
                      the same runs go to that server instead.

        Set MetricsSink:TrackingDir to move this folder (default ~/.mesh/tracking).
        """;
}
