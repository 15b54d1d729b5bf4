namespace Mesh.ModelHost.Tests;

/// <summary>
/// A model host of a fixture's own, in-process on free ports of 127.0.0.1, serving a model folder the fixture
/// writes first (<see cref="WriteModelsAsync"/>); the folder is deleted with the host.
/// </summary>
public abstract class FolderHostFixture(string folderPrefix) : IAsyncLifetime
{
    private ModelHostRun? _host;

    public string Repository { get; } = Path.Combine(Path.GetTempPath(), folderPrefix + Guid.NewGuid().ToString("N"));

    public GRPCInferenceService.GRPCInferenceServiceClient Client => Host.Client;

    public Uri HttpUri => Host.HttpUri;

    public Uri GrpcUri => Host.GrpcUri;

    private protected ModelHostRun Host => _host ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        await WriteModelsAsync(Repository);
        _host = await ModelHostRun.StartAsync(Settings(Repository));
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
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

    /// <summary>Writes the models the host serves into <paramref name="repository"/>, before it starts.</summary>
    protected abstract Task WriteModelsAsync(string repository);
}
