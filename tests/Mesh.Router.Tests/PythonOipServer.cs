namespace Mesh.Router.Tests;

/// <summary>
/// The foreign Open Inference Protocol server (Python/oip_sklearn_server.py, Debian's python3-grpcio and
/// python3-sklearn) as a child process: its stubs are generated from the repository's KServe v2 proto by protoc and
/// grpc_python_plugin, it listens on a port of its choosing on 127.0.0.1 and says which, with the iris rows and its
/// own predictions for them. It stops when its standard input closes.
/// </summary>
internal sealed class PythonOipServer : IAsyncDisposable
{
    public const string Model = "iris-sklearn";

    private readonly Process _process;
    private readonly string _generated;
    private readonly ConcurrentQueue<string> _requested = new();
    private readonly Task _reader;

    private PythonOipServer(Process process, string generated, JsonElement hello)
    {
        _process = process;
        _generated = generated;
        Endpoint = $"http://127.0.0.1:{hello.GetProperty("port").GetInt32()}";
        Classes = [.. hello.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!)];
        Rows = [.. hello.GetProperty("rows").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())];
        Predicted = [.. hello.GetProperty("predicted").EnumerateArray().Select(p => p.GetInt32())];
        _reader = Task.Run(ReadRequestedAsync);
    }

    public string Endpoint { get; }

    /// <summary>scikit-learn's iris class names, in the order of its class indexes.</summary>
    public string[] Classes { get; }

    /// <summary>The iris rows as float32, as the router will send them.</summary>
    public float[][] Rows { get; }

    /// <summary>The server's own model's predictions for <see cref="Rows"/> (class indexes).</summary>
    public int[] Predicted { get; }

    /// <summary>Each distinct list of requested outputs the server saw in a ModelInferRequest, comma-joined.</summary>
    public IReadOnlyCollection<string> RequestedOutputs => _requested;

    /// <summary>The feature names the server gives its input with <c>named</c>, in its column order.</summary>
    public static readonly string[] FeatureNames = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    /// <summary>Starts the server answering in <paramref name="mode"/>; with <paramref name="named"/> its metadata names the input's features.</summary>
    public static async Task<PythonOipServer> StartAsync(string mode, bool named = false)
    {
        var generated = Path.Combine(Path.GetTempPath(), "mesh-oip-python-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(generated);
        var protos = Path.Combine(TestRepository.Root, "protos");
        var (code, _, error) = await ExternalProcess.RunAsync(
            "protoc",
            [$"-I{protos}", $"--python_out={generated}", $"--grpc_python_out={generated}", $"--plugin=protoc-gen-grpc_python={Which("grpc_python_plugin")}", Path.Combine(protos, "inference", "grpc_predict_v2.proto")],
            TimeSpan.FromSeconds(60));
        if (code != 0)
        {
            throw new InvalidOperationException($"protoc failed ({code}): {error}");
        }

        var start = new ProcessStartInfo(ExternalProcess.Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Python", "oip_sklearn_server.py"));
        start.ArgumentList.Add(generated);
        start.ArgumentList.Add(mode);
        if (named)
        {
            start.ArgumentList.Add("named");
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + ExternalProcess.Python);
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        string? first;
        try
        {
            first = await process.StandardOutput.ReadLineAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            first = null;
        }

        if (first is null)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(generated, recursive: true);
            throw new InvalidOperationException("the Python OIP server did not start: " + await errors);
        }

        using var hello = JsonDocument.Parse(first);
        return new PythonOipServer(process, generated, hello.RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        await _reader;
        _process.Dispose();
        Directory.Delete(_generated, recursive: true);
    }

    private async Task ReadRequestedAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            using var json = JsonDocument.Parse(line);
            _requested.Enqueue(string.Join(",", json.RootElement.GetProperty("requested").EnumerateArray().Select(n => n.GetString())));
        }
    }

    private static string Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{tool} is not installed (Debian: protobuf-compiler-grpc)");
}
