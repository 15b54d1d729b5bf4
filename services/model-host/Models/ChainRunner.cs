using System.Buffers;
using System.Diagnostics;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Telemetry;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.ModelHost.Models;

/// <summary>
/// Runs a chain's steps in order on one batch, in one request: each step's outputs stay in ONNX Runtime's memory
/// and are handed to the next step as its inputs (no copy, no trip through the wire encoding); the last step's
/// outputs are written as a single model's are. Every step's time is a histogram on /metrics. Owns the sessions.
/// </summary>
internal sealed class ChainRunner(
    string model,
    string version,
    IReadOnlyList<ChainStep> leading,
    string lastName,
    OnnxRunner last,
    IReadOnlyList<InputSpec> inputs,
    ModelHostTelemetry telemetry) : IModelSession
{
    private readonly RunOptions _runOptions = new();

    public RunOutput[] Run(IReadOnlyList<InputTensor> tensors) => Run(tensors, record: true);

    // Warm-up runs are not traffic: they stay off the step histograms.
    public RunOutput[] WarmUp() => last.WarmUp(inputs, tensors => Run(tensors, record: false));

    public void Dispose()
    {
        foreach (var step in leading)
        {
            step.Session.Dispose();
        }

        last.Dispose();
        _runOptions.Dispose();
    }

    private RunOutput[] Run(IReadOnlyList<InputTensor> tensors, bool record)
    {
        var values = new OrtValue[tensors.Count];
        var pins = new MemoryHandle[tensors.Count];
        IDisposableReadOnlyCollection<OrtValue>? produced = null;
        try
        {
            OnnxRunner.CreateInputValues(inputs, tensors, values, pins);
            IReadOnlyCollection<OrtValue> current = values;
            foreach (var step in leading)
            {
                var started = Stopwatch.GetTimestamp();
                // Asked for exactly the next step's inputs, in its order: the results are its input list as they are.
                var outputs = step.Session.Run(_runOptions, step.InputNames, current, step.OutputNames);
                produced?.Dispose();
                produced = outputs;
                current = outputs;
                if (record)
                {
                    telemetry.RecordStep(model, version, step.Name, Stopwatch.GetElapsedTime(started).TotalSeconds);
                }
            }

            var lastStarted = Stopwatch.GetTimestamp();
            var results = last.RunValues(current, tensors[0].Shape[0]);
            if (record)
            {
                telemetry.RecordStep(model, version, lastName, Stopwatch.GetElapsedTime(lastStarted).TotalSeconds);
            }

            return results;
        }
        finally
        {
            produced?.Dispose();
            OnnxRunner.DisposeInputValues(values, pins);
        }
    }
}
