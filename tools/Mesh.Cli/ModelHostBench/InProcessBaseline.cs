using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.Cli.ModelHostBench;

/// <summary>The same ONNX Runtime call the model host makes, run in this process: the baseline of every gRPC figure.</summary>
internal static class InProcessBaseline
{
    /// <summary>
    /// The same ONNX Runtime call in this process, on <paramref name="threads"/> threads sharing one session
    /// (as the host's requests share its session), each with its own input.
    /// </summary>
    public static Throughput Measure(BenchModel model, int rows, int threads, ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        // The host's default session settings: one intra-op and one inter-op thread, full graph optimisation.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model.ModelPath, options);
        var outputNames = session.OutputNames.ToArray();
        string[] inputNames = [model.InputName];

        Run(settings.WarmupSeconds, record: false);
        var elapsed = Stopwatch.StartNew();
        var latencies = Run(settings.DurationSeconds, record: true);
        return Throughput.Create(latencies, rows, elapsed.Elapsed.TotalSeconds, 0);

        double[] Run(double seconds, bool record)
        {
            var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            var perThread = new List<double>[threads];
            var workers = new Thread[threads];
            for (var t = 0; t < threads; t++)
            {
                var index = t;
                perThread[index] = [];
                workers[index] = new Thread(() => Loop(end, record ? perThread[index] : null)) { IsBackground = true, Name = "in-process " + index };
                workers[index].Start();
            }

            foreach (var worker in workers)
            {
                worker.Join();
            }

            return [.. perThread.SelectMany(l => l)];
        }

        void Loop(long end, List<double>? record)
        {
            using var runOptions = new RunOptions();
            using var input = OrtValue.CreateTensorValueFromMemory(Features(rows, model.Features), [rows, model.Features]);
            OrtValue[] inputs = [input];
            while (Stopwatch.GetTimestamp() < end && !cancellationToken.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();

                // All outputs are fetched, as the host returns all of them when none are requested.
                using (session.Run(runOptions, inputNames, inputs, outputNames))
                {
                }

                record?.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
    }

    /// <summary>Rows of plausible feature values, the same every run, so both sides score identical inputs.</summary>
    public static float[] Features(int rows, int features)
    {
        var random = new Random(20261127);
        var values = new float[rows * features];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(0.1 + (random.NextDouble() * 7.8));
        }

        return values;
    }
}
