using Grpc.Net.Client;
using Inference;
using Microsoft.AspNetCore.Builder;

namespace Mesh.ModelHost.Tests;

/// <summary>
/// A model host of its own, built as Program.cs builds it, serving the chain test models (a chain that
/// cannot load must not change what the shared host's tests see).
/// </summary>
public sealed class ChainHostFixture : IAsyncLifetime
{
    private WebApplication? _app;
    private GrpcChannel? _channel;

    public string Repository { get; } = Path.Combine(Path.GetTempPath(), "mesh-model-host-chain-" + Guid.NewGuid().ToString("N"));

    public GRPCInferenceService.GRPCInferenceServiceClient Client { get; private set; } = null!;

    public Uri HttpUri { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Onnx.ChainModels.WriteAll(Repository);
        _app = ModelHostApp.Create([], ModelHostFixture.Settings(Repository));
        await _app.StartAsync();
        HttpUri = _app.GetEndpointUri("Http");
        _channel = GrpcChannel.ForAddress(_app.GetEndpointUri("Grpc"));
        Client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        await ModelHostFixture.WaitUntilReadyAsync(Client);
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
}
