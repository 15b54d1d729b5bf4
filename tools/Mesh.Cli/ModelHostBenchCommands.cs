using System.CommandLine;
using Mesh.Cli.ModelHostBench;

namespace Mesh.Cli;

/// <summary>The <c>mesh bench-model-host</c> command; its work lives in <c>ModelHostBench/</c>.</summary>
internal static class ModelHostBenchCommands
{
    public static Command Create() => BenchModelHost();

    public static Command BenchModelHost()
    {
        var duration = new Option<double>("--duration") { Description = "Seconds measured per batch size and per concurrency run.", DefaultValueFactory = _ => 5 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of unmeasured calls before each measurement.", DefaultValueFactory = _ => 1 };
        var batchSizes = new Option<int[]>("--batch-size") { Description = "Rows per request (repeatable).", DefaultValueFactory = _ => [1, 16, 256], AllowMultipleArgumentsPerToken = true };
        var callers = new Option<int>("--callers") { Description = "Concurrent callers of the dynamic batching comparison (batch 1 each).", DefaultValueFactory = _ => 64 };
        var queueDelay = new Option<int>("--max-queue-delay-us") { Description = "ModelHost:Batching:MaxQueueDelayMicroseconds of the batching host.", DefaultValueFactory = _ => 500 };
        var maxBatch = new Option<int>("--max-batch-size") { Description = "ModelHost:Batching:MaxBatchSize of the batching host.", DefaultValueFactory = _ => 256 };
        var configuration = new Option<string>("--configuration") { Description = "Build configuration of the model host.", DefaultValueFactory = _ => "Release" };
        var output = new Option<string>("--output") { Description = "Folder for model-host-bench.json and model-host-bench.md.", DefaultValueFactory = _ => Path.Combine("artifacts", "bench-model-host") };
        var docs = new Option<string?>("--docs") { Description = "Write the \"## Model host\" section of this Markdown file (e.g. docs/benchmarks.md), replacing the one already there." };
        var models = new Option<string[]>("--model") { Description = "Measure only this model (repeatable): iris-logreg, bench-mlp, bench-mlp-large. Default: all three.", DefaultValueFactory = _ => [], AllowMultipleArgumentsPerToken = true };
        var command = new Command("bench-model-host", "Measure the model host over gRPC against the same ONNX Runtime call in-process, and dynamic batching on vs off under concurrent callers.")
        {
            duration, warmup, batchSizes, callers, queueDelay, maxBatch, configuration, output, docs, models,
        };
        command.SetAction((result, token) =>
        {
            var seconds = result.GetValue(duration);
            var sizes = result.GetValue(batchSizes)!;
            if (seconds <= 0 || result.GetValue(warmup) < 0 || sizes.Length == 0 || sizes.Any(s => s <= 0) || result.GetValue(callers) <= 0 || result.GetValue(queueDelay) < 0 || result.GetValue(maxBatch) <= 0)
            {
                Console.Error.WriteLine("error: --duration, --batch-size, --callers and --max-batch-size must be positive; --warmup and --max-queue-delay-us not negative.");
                return Task.FromResult(2);
            }

            return ModelHostBenchCommand.RunAsync(
                new ModelHostBenchSettings(
                    seconds,
                    result.GetValue(warmup),
                    sizes,
                    result.GetValue(callers),
                    result.GetValue(queueDelay),
                    result.GetValue(maxBatch),
                    result.GetValue(configuration)!,
                    Path.GetFullPath(result.GetValue(output)!),
                    result.GetValue(docs) is { } d ? Path.GetFullPath(d) : null,
                    result.GetValue(models)!),
                token);
        });
        return command;
    }
}
