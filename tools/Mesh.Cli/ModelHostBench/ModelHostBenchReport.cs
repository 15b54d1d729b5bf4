using System.Globalization;
using System.Text;

namespace Mesh.Cli.ModelHostBench;

internal sealed record ModelHostBenchReport(
    DateTimeOffset Date,
    string Machine,
    string Command,
    string Model,
    string Version,
    double DurationSeconds,
    double WarmupSeconds,
    IReadOnlyList<BatchSizeResult> BatchSizes,
    ConcurrencyResult Concurrency);

/// <summary>Calls in a fixed time and their latencies; for the in-process side a request is one Run.</summary>
internal sealed record Throughput(long Requests, long Rows, double Seconds, double RequestsPerSecond, double RowsPerSecond, double P50Ms, double P99Ms, int Errors)
{
    public static Throughput Create(double[] latenciesMs, int rowsPerRequest, double seconds, int errors)
    {
        Array.Sort(latenciesMs);
        var requests = latenciesMs.Length;
        return new Throughput(
            requests,
            (long)requests * rowsPerRequest,
            seconds,
            requests / seconds,
            (double)requests * rowsPerRequest / seconds,
            Percentile(latenciesMs, 0.50),
            Percentile(latenciesMs, 0.99),
            errors);
    }

    /// <summary>Nearest rank: the smallest latency at or above the share p of all calls.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <param name="InProcessShare">In-process time per call over gRPC time per call (1 = no overhead).</param>
/// <param name="GrpcOverheadPercent">How much longer a call takes over gRPC than in-process, in percent of the in-process time.</param>
internal sealed record BatchSizeResult(int BatchSize, Throughput Grpc, Throughput InProcess, double InProcessShare, double GrpcOverheadPercent)
{
    public static BatchSizeResult Create(int batchSize, Throughput grpc, Throughput inProcess)
    {
        // Time per call from the rates, not the medians: it includes every slow call the caller waited for.
        var grpcPerCall = grpc.Requests > 0 ? grpc.Seconds / grpc.Requests : double.NaN;
        var inProcessPerCall = inProcess.Requests > 0 ? inProcess.Seconds / inProcess.Requests : double.NaN;
        var share = double.IsNaN(grpcPerCall) || double.IsNaN(inProcessPerCall) ? 0 : inProcessPerCall / grpcPerCall;
        var overhead = share > 0 ? ((grpcPerCall / inProcessPerCall) - 1) * 100 : 0;
        return new BatchSizeResult(batchSize, grpc, inProcess, share, overhead);
    }
}

internal sealed record ConcurrencyResult(int Callers, int BatchSize, int MaxBatchSize, int MaxQueueDelayMicroseconds, Throughput BatchingOn, Throughput BatchingOff, double Speedup);

internal static class ModelHostBenchFormatter
{
    public static string Markdown(ModelHostBenchReport report)
    {
        var text = new StringBuilder();
        Line(text, $"One caller per batch size over gRPC (one h2c channel, dynamic batching off) vs the same ONNX Runtime call in-process, {report.DurationSeconds:0.###} s each:");
        text.AppendLine();
        text.AppendLine("| batch | gRPC req/s | gRPC rows/s | gRPC p50 / p99 ms | in-process calls/s | in-process rows/s | in-process p50 / p99 ms | in-process / gRPC time per call | gRPC overhead |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var b in report.BatchSizes)
        {
            Line(text, $"| {b.BatchSize} | {b.Grpc.RequestsPerSecond:N0} | {b.Grpc.RowsPerSecond:N0} | {b.Grpc.P50Ms:0.000} / {b.Grpc.P99Ms:0.000} | {b.InProcess.RequestsPerSecond:N0} | {b.InProcess.RowsPerSecond:N0} | {b.InProcess.P50Ms:0.000} / {b.InProcess.P99Ms:0.000} | {b.InProcessShare:P0} | {b.GrpcOverheadPercent:N0} % |");
        }

        var c = report.Concurrency;
        text.AppendLine();
        Line(text, $"{c.Callers} concurrent callers, batch {c.BatchSize} each, {report.DurationSeconds:0.###} s (batching on: MaxBatchSize {c.MaxBatchSize}, MaxQueueDelayMicroseconds {c.MaxQueueDelayMicroseconds}):");
        text.AppendLine();
        text.AppendLine("| dynamic batching | rows/s | p50 / p99 ms | errors |");
        text.AppendLine("|---|---|---|---|");
        Line(text, $"| on | {c.BatchingOn.RowsPerSecond:N0} | {c.BatchingOn.P50Ms:0.000} / {c.BatchingOn.P99Ms:0.000} | {c.BatchingOn.Errors} |");
        Line(text, $"| off | {c.BatchingOff.RowsPerSecond:N0} | {c.BatchingOff.P50Ms:0.000} / {c.BatchingOff.P99Ms:0.000} | {c.BatchingOff.Errors} |");
        text.AppendLine();
        Line(text, $"Dynamic batching: {c.Speedup:0.00}× the rows/s of unbatched serving.");
        return text.ToString();
    }

    public static string DocsSection(ModelHostBenchReport report, string table) =>
        string.Create(CultureInfo.InvariantCulture, $"""


            ## Model host

            `mesh bench-model-host` on {report.Date:yyyy-MM-dd HH:mm} UTC, {report.Machine}; model {report.Model} v{report.Version}.
            Command: `{report.Command}`

            {table}
            """);

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
