namespace Mesh.ModelHost.Tests;

/// <summary>
/// A client on a different gRPC stack (Debian's python3-grpcio, code generated from the repository's
/// proto by protoc and grpc_python_plugin) calls ModelMetadata and ModelInfer. Python comes from
/// MESH_PYTHON, else /usr/bin/python3 (the pyenv python3 on PATH lacks Debian's packages).
/// </summary>
[Collection(ModelHostCollection.Name)]
public sealed class PythonClientTests(ModelHostFixture host) : IDisposable
{
    private readonly string _generated = Path.Combine(Path.GetTempPath(), "mesh-python-v2-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_generated))
        {
            Directory.Delete(_generated, recursive: true);
        }
    }

    [Fact]
    public async Task PythonGrpcClient_MetadataInferAndError_AnswersAsTheProtocolSays()
    {
        var protos = Path.Combine(RepositoryRoot(), "protos");
        Directory.CreateDirectory(_generated);
        await Run("protoc", $"-I {protos} --python_out={_generated} --grpc_python_out={_generated} --plugin=protoc-gen-grpc_python={Which("grpc_python_plugin")} {Path.Combine(protos, "inference", "grpc_predict_v2.proto")}");
        var grpc = host.GrpcUri;

        var output = await Run(Python(), $"{Path.Combine(AppContext.BaseDirectory, "Python", "v2_client.py")} {grpc.Host}:{grpc.Port} {_generated}");

        var result = JsonNode.Parse(output)!;
        Assert.True((bool)result["live"]!);
        Assert.Equal("iris-logreg", (string?)result["metadata"]!["name"]);
        Assert.Equal("""[{"name":"Features","datatype":"FP32","shape":[-1,4]}]""", result["metadata"]!["inputs"]!.ToJsonString());
        Assert.Equal("""["label","probabilities"]""", new JsonArray([.. result["metadata"]!["outputs"]!.AsArray().Select(o => (JsonNode?)JsonValue.Create((string?)o!["name"]))]).ToJsonString());
        var infer = result["infer"]!;
        Assert.Equal("python-1", (string?)infer["id"]);
        Assert.Equal("1", (string?)infer["model_version"]);
        Assert.Equal("""["setosa","versicolor","virginica"]""", infer["class_names"]!.ToJsonString());
        Assert.Equal("""["setosa","versicolor","virginica"]""", infer["labels"]!.ToJsonString());
        var probabilities = infer["probabilities"]!.AsArray().Select(p => (double)p!).ToArray();
        Assert.Equal(9, probabilities.Length);
        Assert.All(Enumerable.Range(0, 3), row => Assert.InRange(probabilities.Skip(row * 3).Take(3).Sum(), 0.99, 1.01));
        Assert.Equal("[3,1,-1]", result["codes"]!.ToJsonString());
        Assert.Equal("NOT_FOUND", (string?)result["error"]!["code"]);
        Assert.Contains("no-such-model", (string?)result["error"]!["details"]);
    }

    private static string Python() => Environment.GetEnvironmentVariable("MESH_PYTHON") is { Length: > 0 } python ? python : "/usr/bin/python3";

    private static string Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{tool} is not installed (Debian: protobuf-compiler-grpc)");

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (Directory.Exists(Path.Combine(folder.FullName, "protos", "inference")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("protos/inference not found above " + AppContext.BaseDirectory);
    }

    private static async Task<string> Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{file} {arguments} exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
