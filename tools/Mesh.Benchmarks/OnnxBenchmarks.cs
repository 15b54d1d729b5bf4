using BenchmarkDotNet.Attributes;
using Mesh.Cli.Training;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.Benchmarks;

/// <summary>One ONNX Runtime call over a batch with preallocated input and output OrtValues, for both demo models.</summary>
[MemoryDiagnoser]
public class OnnxBenchmarks
{
    private string _models = "";
    private InferenceSession? _session;
    private OrtValue? _input;
    private OrtValue? _output;
    private RunOptions? _run;
    private string _inputName = "";
    private string _outputName = "";

    [Params("iris-logreg", "iris-boosted")]
    public string Model { get; set; } = "";

    [Params(1, 256)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _models = Directory.CreateTempSubdirectory("mesh-onnx-bench-").FullName;
        DemoModelTrainer.Train(Path.Combine(FindRoot(), "data", "iris.csv"), _models, TextWriter.Null);
        _session = new InferenceSession(Path.Combine(_models, Model, "1", "model.onnx"), new SessionOptions { IntraOpNumThreads = 1 });
        _inputName = _session.InputMetadata.Keys.First();
        _outputName = _session.OutputMetadata.Keys.First(k => k.StartsWith("Score", StringComparison.Ordinal));
        var features = new float[BatchSize * 4];
        for (var i = 0; i < features.Length; i++)
        {
            features[i] = 1 + (i % 7);
        }

        _input = OrtValue.CreateTensorValueFromMemory(features, [BatchSize, 4]);
        _output = OrtValue.CreateTensorValueFromMemory(new float[BatchSize * 3], [BatchSize, 3]);
        _run = new RunOptions();
    }

    [Benchmark]
    public void Run() => _session!.Run(_run!, [_inputName], [_input!], [_outputName], [_output!]);

    [GlobalCleanup]
    public void Cleanup()
    {
        _input?.Dispose();
        _output?.Dispose();
        _run?.Dispose();
        _session?.Dispose();
        Directory.Delete(_models, recursive: true);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Mesh.sln not found");
    }
}
