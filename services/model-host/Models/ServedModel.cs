using System.Diagnostics;
using Mesh.ModelHost.Batching;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;

namespace Mesh.ModelHost.Models;

/// <summary>
/// One model version as it is served: its wire signature, its ONNX runner, its class labels, its dynamic
/// batcher when it batches, and the leases of the requests in flight (a swapped-out version is released
/// once they finish).
/// </summary>
internal sealed class ServedModel : IDisposable
{
    public const string Platform = "onnxruntime_onnx";

    private readonly ModelSignature _signature;
    private readonly IModelSession _runner;
    private readonly LabelEncoder? _labels;
    private readonly DynamicBatcher? _batcher;
    private readonly ModelHostTelemetry _telemetry;

    private int _leases;
    private int _retired;
    private int _disposed;

    private ServedModel(
        string name,
        string version,
        ModelSignature signature,
        IModelSession runner,
        LabelEncoder? labels,
        DynamicBatcher? batcher,
        ModelHostTelemetry telemetry,
        bool acceptsNonFinite)
    {
        Name = name;
        Version = version;
        _signature = signature;
        _runner = runner;
        _labels = labels;
        _batcher = batcher;
        _telemetry = telemetry;
        AcceptsNonFinite = acceptsNonFinite;
    }

    public string Name { get; }

    public string Version { get; }

    public IReadOnlyList<InputSpec> Inputs => _signature.Inputs;

    public IReadOnlyList<OutputSpec> Outputs => _signature.Outputs;

    public IReadOnlyList<string>? ClassNames => _labels?.ClassNames;

    /// <summary>Whether NaN and ±Infinity may reach this model (<c>acceptNonFinite</c> in config.json, <c>ModelHost:AcceptNonFinite</c>); else they are refused.</summary>
    public bool AcceptsNonFinite { get; }

    /// <summary>The class names as a JSON array, sent as the <c>class_names</c> response parameter.</summary>
    public string? ClassNamesJson => _labels?.ClassNamesJson;

    /// <summary>The input whose feature columns are named (config.json <c>input.featureNames</c>), and the names in column order.</summary>
    public (string Input, string[] Names)? FeatureNames => _signature.FeatureNames;

    /// <summary>Whether concurrent requests to this version are coalesced into one run.</summary>
    public bool IsBatching => _batcher is not null;

    /// <summary>
    /// Loads, checks and warms up one version from <paramref name="folder"/>. <paramref name="time"/> is the
    /// batcher's clock (the system clock unless a test moves its own).
    /// </summary>
    public static ServedModel Load(
        string name,
        string version,
        string folder,
        ModelSessionSettings settings,
        BatchingSettings batching,
        ModelHostTelemetry telemetry,
        MlmodelFile? mlmodel = null,
        TimeProvider? time = null)
    {
        var (session, config, modelPath, sessionSettings) = ModelFolder.Open(folder, mlmodel, settings);
        batching = config?.DynamicBatching?.Apply(batching, Path.Combine(folder, RepositoryLayout.ConfigFileName)) ?? batching;
        ModelSignature signature;
        try
        {
            signature = new ModelSignature(session, config, modelPath, mlmodel?.Inputs);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        return Create(name, version, signature, new OnnxRunner(session, signature), batching, telemetry, sessionSettings.AcceptNonFinite, time);
    }

    /// <summary>
    /// Loads a chain of steps served as one model: each step's outputs feed the next step's inputs by name (checked
    /// here), the chain takes the first step's inputs and answers with the last step's outputs and class names.
    /// </summary>
    public static ServedModel LoadChain(
        string name,
        string version,
        IReadOnlyList<ChainStepSource> steps,
        ModelSessionSettings settings,
        BatchingSettings batching,
        ModelHostTelemetry telemetry,
        TimeProvider? time = null)
    {
        var (signature, runner, acceptNonFinite) = ChainLoader.Load(name, version, steps, settings, telemetry);
        return Create(name, version, signature, runner, batching, telemetry, acceptNonFinite, time);
    }

    private static ServedModel Create(
        string name,
        string version,
        ModelSignature signature,
        IModelSession runner,
        BatchingSettings batching,
        ModelHostTelemetry telemetry,
        bool acceptNonFinite,
        TimeProvider? time)
    {
        try
        {
            var warmUp = runner.WarmUp();
            var classNames = signature.ConfigClassNames;
            foreach (var output in signature.Outputs)
            {
                // ZipMap outputs carry their class labels: only the warm-up run knows how many there are.
                if (output.Kind == OutputKind.ZipMap && warmUp[output.RunOutputIndex].ClassLabels is { } zipMapLabels)
                {
                    output.Shape[1] = zipMapLabels.Length;
                    classNames = zipMapLabels;
                }
            }

            var labels = classNames is null ? null : new LabelEncoder(classNames);
            foreach (var output in signature.Outputs)
            {
                if (output.Kind == OutputKind.ClassLabel)
                {
                    var result = warmUp[output.RunOutputIndex];
                    labels!.EncodeLabels(result.Data, (int)result.Shape[0]);
                }
            }

            var batcher = batching.Enabled && signature.RowsStack && warmUp.All(o => o.Shape is [OnnxRunner.WarmUpRows, ..])
                ? new DynamicBatcher(name, version, runner, new RowBatcher(signature.Inputs, signature.RunOutputNames, signature.RunOutputTypes), batching, telemetry, time ?? TimeProvider.System)
                : null;
            telemetry.AddModelZeros(name, version);
            return new ServedModel(name, version, signature, runner, labels, batcher, telemetry, acceptNonFinite);
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    public InputSpec? FindInput(string name) => _signature.FindInput(name);

    public OutputSpec? FindOutput(string name) => _signature.FindOutput(name);

    /// <summary>Runs through the dynamic batcher when this version batches, else at once on the caller's thread.</summary>
    public Task<RunOutput[]> RunAsync(InputTensor[] inputs, long rows)
    {
        if (_batcher is not null)
        {
            return _batcher.RunAsync(inputs, rows);
        }

        var started = Stopwatch.GetTimestamp();
        var outputs = _runner.Run(inputs);
        _telemetry.RecordBatch(Name, Version, rows, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return Task.FromResult(outputs);
    }

    /// <summary>The v2 BYTES encoding of the class with the highest probability in each row.</summary>
    public byte[] EncodeLabels(byte[] probabilities, int rows) =>
        (_labels ?? throw new InvalidOperationException($"model '{Name}' has no class names")).EncodeLabels(probabilities, rows);

    /// <summary>Takes a lease for one request; false once the version is retired (look it up again).</summary>
    public bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (Volatile.Read(ref _retired) == 0)
        {
            return true;
        }

        Release();
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) != 0)
        {
            Dispose();
        }
    }

    /// <summary>Swapped out: no new requests; released once the requests in flight finish.</summary>
    public void Retire()
    {
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _leases) == 0)
        {
            Dispose();
        }
    }

    /// <summary>Lets queued requests finish, then releases the session.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _batcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _runner.Dispose();
    }
}
