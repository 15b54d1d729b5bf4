namespace Mesh.Mlflow.Tests;

/// <summary>
/// A test class against a fresh MLflow stand-in per test (<see cref="FakeMlflowServer"/> or
/// <see cref="FakeMlflowTrackingServer"/>): the server, one HTTP client, and MLflow clients of that server.
/// </summary>
public abstract class FakeMlflowTests<TServer>(Func<Task<TServer>> start) : IAsyncLifetime
    where TServer : class, IFakeMlflow
{
    protected HttpClient Http { get; } = new();

    protected TServer Server { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Server = await start();

    public virtual async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>A client of <see cref="Server"/> with the options <paramref name="configure"/> sets besides its address.</summary>
    protected MlflowClient ClientOf(Action<MlflowClientOptions> configure)
    {
        var options = new MlflowClientOptions { TrackingUri = Server.Uri };
        configure(options);
        return new MlflowClient(Http, options);
    }

    /// <summary>A tracking client of <see cref="Server"/> retrying <paramref name="maxRetries"/> times after 10 ms-scale backoffs.</summary>
    protected MlflowTrackingClient Tracking(int maxRetries = 0) =>
        new(ClientOf(o => (o.MaxRetries, o.BackoffFactor) = (maxRetries, 0.01)));
}
