using Grpc.Net.Client;
using Inference;
using Mesh.Cli.Training;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.ModelHost.Tests;

/// <summary>
/// One model host in-process, built exactly as Program.cs builds it, on 127.0.0.1 port 0, serving a
/// repository with the two trained demo models and one corrupt model.
/// </summary>
public sealed class ModelHostFixture : IAsyncLifetime
{
    public const string CorruptModel = "iris-corrupt";

    private WebApplication? _app;
    private GrpcChannel? _channel;

    public string Repository { get; } = Path.Combine(Path.GetTempPath(), "mesh-model-host-" + Guid.NewGuid().ToString("N"));

    public GRPCInferenceService.GRPCInferenceServiceClient Client { get; private set; } = null!;

    public Uri HttpUri { get; private set; } = null!;

    public Uri GrpcUri { get; private set; } = null!;

    /// <summary>The host's own meter factory: a test listens to its meters only, not those of other hosts in the process.</summary>
    public IMeterFactory MeterFactory => _app!.Services.GetRequiredService<IMeterFactory>();

    public async Task InitializeAsync()
    {
        DemoModelTrainer.Train(Mesh.Cli.Tests.IrisData.CsvPath, Repository, TextWriter.Null);

        // A model file that is not ONNX, with a valid config next to it: it must fail alone.
        var corrupt = Directory.CreateDirectory(Path.Combine(Repository, CorruptModel, "1")).FullName;
        await File.WriteAllTextAsync(Path.Combine(corrupt, "model.onnx"), "this is not an ONNX model");
        File.Copy(Path.Combine(Repository, DemoModelTrainer.LogisticRegressionName, "1", "config.json"), Path.Combine(corrupt, "config.json"));

        Onnx.TestModels.WriteAll(Repository);
        Onnx.TestModels.WriteBatched(Repository);

        _app = ModelHostApp.Create([], Settings(Repository));
        await _app.StartAsync();
        HttpUri = _app.GetEndpointUri("Http");
        GrpcUri = _app.GetEndpointUri("Grpc");
        _channel = GrpcChannel.ForAddress(GrpcUri);
        Client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        await WaitUntilReadyAsync(Client);
    }

    /// <summary>Loading runs in the background; waits for readiness as a client would (bounded, not asserted on time).</summary>
    internal static async Task WaitUntilReadyAsync(GRPCInferenceService.GRPCInferenceServiceClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await client.ServerReadyAsync(new ServerReadyRequest())).Ready)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("The model host did not become ready within 60 s.");
            }

            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(Repository, recursive: true);
    }

    /// <summary>Configuration for an in-process host on free ports of 127.0.0.1.</summary>
    public static Dictionary<string, string?> Settings(string repository) => new()
    {
        ["ModelHost:ModelRepository"] = repository,
        ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
        ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:Http:Protocols"] = "Http1",
    };
}

/// <summary>One host for every test class that needs it: training the demo models once keeps the suite light on two cores.</summary>
[CollectionDefinition(Name)]
public sealed class ModelHostCollection : ICollectionFixture<ModelHostFixture>
{
    public const string Name = "model host";
}
