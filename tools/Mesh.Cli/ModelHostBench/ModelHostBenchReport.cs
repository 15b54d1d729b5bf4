using System.Globalization;
using System.Text;

namespace Mesh.Cli.ModelHostBench;

internal sealed record ModelHostBenchReport(
    DateTimeOffset Date,
    string Machine,
    int Cores,
    string LoadBefore,
    string LoadAfter,
    string Command,
    double DurationSeconds,
    double WarmupSeconds,
    IReadOnlyList<ModelResult> Models);

internal sealed record ModelResult(string Model, string Version, string Description, IReadOnlyList<BatchSizeResult> BatchSizes, ConcurrencyResult Concurrency);

/// <summary>Calls in a fixed time and their latencies; for the in-process side a request is one Run.</summary>
/// <param name="MeanRowsPerRun">Rows per ONNX Runtime call in the host over the measurement (from its batch-size histogram); 0 when not read.</param>
internal sealed record Throughput(long Requests, long Rows, double Seconds, double RequestsPerSecond, double RowsPerSecond, double P50Ms, double P99Ms, int Errors, double MeanRowsPerRun)
{
    public static Throughput Create(double[] latenciesMs, int rowsPerRequest, double seconds, int errors, double meanRowsPerRun = 0)
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
            errors,
            meanRowsPerRun);
    }

    /// <summary>Nearest rank: the smallest latency at or above the share p of all calls.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <param name="InProcessShare">In-process time per call over gRPC time per call, one caller (1 = no overhead).</param>
/// <param name="GrpcOverheadPercent">How much longer a call takes over gRPC than in-process, one caller, in percent of the in-process time.</param>
/// <param name="ConcurrentCallers">Callers of the gRPC side and threads of the in-process side of the concurrent comparison.</param>
/// <param name="ConcurrentGrpcOverheadPercent">How many more rows/s the in-process threads score than the gRPC callers, in percent of the gRPC rows/s.</param>
internal sealed record BatchSizeResult(
    int BatchSize,
    Throughput Grpc,
    Throughput InProcess,
    double InProcessShare,
    double GrpcOverheadPercent,
    int ConcurrentCallers,
    Throughput GrpcConcurrent,
    Throughput InProcessConcurrent,
    double ConcurrentGrpcOverheadPercent)
{
    public static BatchSizeResult Create(int batchSize, Throughput grpc, Throughput inProcess, int callers, Throughput grpcConcurrent, Throughput inProcessConcurrent)
    {
        // Time per call from the rates, not the medians: it includes every slow call the caller waited for.
        var grpcPerCall = grpc.Requests > 0 ? grpc.Seconds / grpc.Requests : double.NaN;
        var inProcessPerCall = inProcess.Requests > 0 ? inProcess.Seconds / inProcess.Requests : double.NaN;
        var share = double.IsNaN(grpcPerCall) || double.IsNaN(inProcessPerCall) ? 0 : inProcessPerCall / grpcPerCall;
        var overhead = share > 0 ? ((grpcPerCall / inProcessPerCall) - 1) * 100 : 0;

        // With several callers the cores are shared, so time per call is no longer the measure: rows/s is.
        var concurrentOverhead = grpcConcurrent.RowsPerSecond > 0 ? ((inProcessConcurrent.RowsPerSecond / grpcConcurrent.RowsPerSecond) - 1) * 100 : 0;
        return new BatchSizeResult(batchSize, grpc, inProcess, share, overhead, callers, grpcConcurrent, inProcessConcurrent, concurrentOverhead);
    }
}

/// <summary>One round of the batching comparison: the same callers against the batching host, then the other.</summary>
internal sealed record ConcurrencyRound(int Round, Throughput BatchingOn, Throughput BatchingOff, double Speedup);

/// <param name="BatchingOn">The batching host over all rounds (rows and seconds summed; latencies of the median round).</param>
/// <param name="Speedup">Rows/s with batching on over rows/s with it off, over all rounds.</param>
internal sealed record ConcurrencyResult(
    int Callers,
    int BatchSize,
    int MaxBatchSize,
    int MaxQueueDelayMicroseconds,
    Throughput BatchingOn,
    Throughput BatchingOff,
    double Speedup,
    IReadOnlyList<ConcurrencyRound> Rounds)
{
    public static ConcurrencyResult Create(int callers, int batchSize, int maxBatchSize, int maxQueueDelayMicroseconds, IReadOnlyList<ConcurrencyRound> rounds)
    {
        var median = rounds.OrderBy(r => r.Speedup).ElementAt(rounds.Count / 2);
        var on = Pool(rounds.Select(r => r.BatchingOn).ToList(), median.BatchingOn);
        var off = Pool(rounds.Select(r => r.BatchingOff).ToList(), median.BatchingOff);
        return new ConcurrencyResult(callers, batchSize, maxBatchSize, maxQueueDelayMicroseconds, on, off, off.RowsPerSecond > 0 ? on.RowsPerSecond / off.RowsPerSecond : 0, rounds);
    }

    private static Throughput Pool(IReadOnlyList<Throughput> runs, Throughput median)
    {
        var requests = runs.Sum(r => r.Requests);
        var rows = runs.Sum(r => r.Rows);
        var seconds = runs.Sum(r => r.Seconds);
        var runsWithRows = runs.Where(r => r.MeanRowsPerRun > 0).ToList();
        return new Throughput(
            requests, rows, seconds, requests / seconds, rows / seconds, median.P50Ms, median.P99Ms, runs.Sum(r => r.Errors),
            runsWithRows.Count > 0 ? runsWithRows.Average(r => r.MeanRowsPerRun) : 0);
    }
}

internal static class ModelHostBenchFormatter
{
    public const string SectionHeading = "## Model host";

    public static string Markdown(ModelHostBenchReport report)
    {
        var text = new StringBuilder();
        var callers = report.Models.SelectMany(m => m.BatchSizes).Select(b => b.ConcurrentCallers).FirstOrDefault();
        Line(text, $"Targets (issue 3, on 2 cores): (a) at batch 256, gRPC overhead under 30 % of the same ONNX Runtime call in-process; (b) at batch 1 with {report.Models.FirstOrDefault()?.Concurrency.Callers ?? 0} concurrent callers, dynamic batching at least 3× the rows/s of unbatched serving.");
        text.AppendLine();
        text.AppendLine($"| model | (a) gRPC overhead at batch 256, 1 caller | (a) gRPC overhead at batch 256, {callers} callers (rows/s) | (b) batching on / off, rows/s |");
        text.AppendLine("|---|---|---|---|");
        foreach (var model in report.Models)
        {
            var at256 = model.BatchSizes.FirstOrDefault(b => b.BatchSize == 256);
            var a1 = at256 is null ? "not measured" : Verdict($"{at256.GrpcOverheadPercent:N0} %", at256.GrpcOverheadPercent < 30);
            var aN = at256 is null ? "not measured" : Verdict($"{at256.ConcurrentGrpcOverheadPercent:N0} %", at256.ConcurrentGrpcOverheadPercent < 30);
            var b = Verdict($"{model.Concurrency.Speedup:0.00}×", model.Concurrency.Speedup >= 3);
            Line(text, $"| {model.Model} | {a1} | {aN} | {b} |");
        }

        foreach (var model in report.Models)
        {
            text.AppendLine();
            Line(text, $"### {model.Model} v{model.Version}: {model.Description}");
            text.AppendLine();
            Line(text, $"One caller per batch size over gRPC (one h2c channel, dynamic batching off) vs the same ONNX Runtime call in-process on one thread, {report.DurationSeconds:0.###} s each:");
            text.AppendLine();
            text.AppendLine("| batch | gRPC req/s | gRPC rows/s | gRPC p50 / p99 ms | in-process calls/s | in-process rows/s | in-process p50 / p99 ms | in-process / gRPC time per call | gRPC overhead |");
            text.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var b in model.BatchSizes)
            {
                Line(text, $"| {b.BatchSize} | {b.Grpc.RequestsPerSecond:N0} | {b.Grpc.RowsPerSecond:N0} | {Ms(b.Grpc)} | {b.InProcess.RequestsPerSecond:N0} | {b.InProcess.RowsPerSecond:N0} | {Ms(b.InProcess)} | {b.InProcessShare:P0} | {b.GrpcOverheadPercent:N0} % |");
            }

            text.AppendLine();
            Line(text, $"{callers} concurrent callers per batch size over gRPC (same channel, batching off) vs {callers} threads making the same call in-process on one shared session:");
            text.AppendLine();
            text.AppendLine("| batch | gRPC rows/s | gRPC p50 / p99 ms | in-process rows/s | in-process p50 / p99 ms | gRPC / in-process rows/s | gRPC overhead |");
            text.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var b in model.BatchSizes)
            {
                var ratio = b.InProcessConcurrent.RowsPerSecond > 0 ? b.GrpcConcurrent.RowsPerSecond / b.InProcessConcurrent.RowsPerSecond : 0;
                Line(text, $"| {b.BatchSize} | {b.GrpcConcurrent.RowsPerSecond:N0} | {Ms(b.GrpcConcurrent)} | {b.InProcessConcurrent.RowsPerSecond:N0} | {Ms(b.InProcessConcurrent)} | {ratio:P0} | {b.ConcurrentGrpcOverheadPercent:N0} % |");
            }

            var c = model.Concurrency;
            text.AppendLine();
            Line(text, $"{c.Callers} concurrent callers, batch {c.BatchSize} each, {c.Rounds.Count} rounds of {report.DurationSeconds:0.###} s against each host in turn (batching on: MaxBatchSize {c.MaxBatchSize}, MaxQueueDelayMicroseconds {c.MaxQueueDelayMicroseconds}, MaxConcurrentBatches 1):");
            text.AppendLine();
            text.AppendLine("| round | batching on rows/s | p50 / p99 ms | rows per ONNX Runtime call | batching off rows/s | p50 / p99 ms | on / off |");
            text.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var r in c.Rounds)
            {
                Line(text, $"| {r.Round} | {r.BatchingOn.RowsPerSecond:N0} | {Ms(r.BatchingOn)} | {r.BatchingOn.MeanRowsPerRun:0.0} | {r.BatchingOff.RowsPerSecond:N0} | {Ms(r.BatchingOff)} | {r.Speedup:0.00}× |");
            }

            Line(text, $"| all | {c.BatchingOn.RowsPerSecond:N0} | | {c.BatchingOn.MeanRowsPerRun:0.0} | {c.BatchingOff.RowsPerSecond:N0} | | {c.Speedup:0.00}× |");
            text.AppendLine();
            Line(text, $"Dynamic batching: {c.Speedup:0.00}× the rows/s of unbatched serving over all rounds (rounds from {c.Rounds.Min(r => r.Speedup):0.00}× to {c.Rounds.Max(r => r.Speedup):0.00}×); errors: {c.BatchingOn.Errors} on, {c.BatchingOff.Errors} off.");
            if (ModelShare(report, model) is { } share)
            {
                text.AppendLine();
                var conclusion = share.Share < 0.5
                    ? "So single-row callers cannot get 3× from the host batching for them while the model is this small a part of a request; callers that send batches themselves (the router micro-batches) get the large gains the batch-size tables show."
                    : "Here the model is most of a single-row request, so the host batching for single-row callers pays: what bounds it is a row's cost inside a batch plus the transport per request.";
                Line(text, $"Where the time goes: in-process, one row costs {share.AloneUs:0.0} µs scored alone and {share.BatchedUs:0.00} µs in a batch of 256, while the unbatched {c.Callers}-caller run spent {share.RequestUs:0} µs of the {report.Cores} cores per row (callers, HTTP/2, protobuf, host and model together): the model call is {share.Share:P0} of a single-row request. Batching removes most of that share, and some transport besides (a batch's responses leave together, in fewer writes); the per-request HTTP/2 and protobuf work on both sides stays. {conclusion}");
            }
        }

        return text.ToString();
    }

    public static string DocsSection(ModelHostBenchReport report, string table) =>
        string.Create(CultureInfo.InvariantCulture, $"""
            {SectionHeading}

            `mesh bench-model-host` on {report.Date:yyyy-MM-dd HH:mm} UTC, {report.Machine}.
            Load average before {report.LoadBefore}, after {report.LoadAfter}. The callers, the host and anything else running
            share the same {report.Cores} cores; a load above {report.Cores} means other work took part of them during the run.
            Command: `{report.Command}`

            Three models, because what a call costs decides what the transport costs next to it. The iris model's ONNX Runtime call
            takes microseconds, so every gRPC figure for it is mostly HTTP/2, protobuf and the loopback round trip (one caller waits
            for about 0.2 ms per call whatever the batch), and batching can only save the small part of a request that is the
            model. The small MLP does thousands of times more arithmetic per row: there the same transport is a smaller share of a
            call, and running rows together (one matrix product instead of many vector products) makes each row several times
            cheaper. The large MLP (19 M parameters, 76 MB of weights, a sixth of BERT-base) does about 19 M multiply-adds per
            row, and a row scored alone streams all its weights from memory: the kind of model server-side batching exists for. The one-caller table is latency-bound; the concurrent tables compare throughput
            with the cores busy. Each host first serves every model for a few seconds (tiered compilation finishes); the batching
            and the unbatched host run side by side and are measured in alternating rounds, so neither side runs on code still
            being optimised and load from elsewhere falls on both alike.

            {table}
            """);

    /// <summary>The document with its "## Model host" section replaced by <paramref name="section"/>, or the section added at the end.</summary>
    public static string ReplaceSection(string document, string section) => MarkdownSections.Replace(document, SectionHeading, section);

    /// <summary>
    /// The model call's share of an unbatched request, from the measured figures: µs per row in-process alone
    /// (batch 1) and in a batch of 256, and µs of the machine's cores per row in the unbatched concurrent run.
    /// </summary>
    private static (double AloneUs, double BatchedUs, double RequestUs, double Share)? ModelShare(ModelHostBenchReport report, ModelResult model)
    {
        var alone = model.BatchSizes.FirstOrDefault(b => b.BatchSize == 1)?.InProcess.RowsPerSecond ?? 0;
        var batched = model.BatchSizes.FirstOrDefault(b => b.BatchSize == 256)?.InProcess.RowsPerSecond ?? 0;
        var unbatched = model.Concurrency.BatchingOff.RowsPerSecond;
        if (alone <= 0 || batched <= 0 || unbatched <= 0)
        {
            return null;
        }

        var requestUs = report.Cores * 1e6 / unbatched;
        var aloneUs = 1e6 / alone;
        return (aloneUs, 1e6 / batched, requestUs, aloneUs / requestUs);
    }

    private static string Ms(Throughput t) => string.Create(CultureInfo.InvariantCulture, $"{t.P50Ms:0.000} / {t.P99Ms:0.000}");

    private static string Verdict(string figure, bool met) => figure + (met ? " (met)" : " (not met)");

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
