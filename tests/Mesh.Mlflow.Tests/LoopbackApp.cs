using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Mlflow.Tests;

/// <summary>
/// A started web app on 127.0.0.1 at a port the system picks, with the address it is bound to: what the MLflow
/// stand-ins (<see cref="FakeMlflowServer"/>, <see cref="FakeMlflowTrackingServer"/>) answer from.
/// </summary>
internal sealed class LoopbackApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackApp(WebApplication app, Uri uri)
    {
        _app = app;
        Uri = uri;
    }

    public Uri Uri { get; }

    /// <summary>Builds the app with <paramref name="contentRoot"/> as its content root, lets <paramref name="map"/> add the endpoints, and starts it.</summary>
    public static async Task<LoopbackApp> StartAsync(string contentRoot, Action<WebApplication> map)
    {
        // Its own content root: a test project's output folder may hold a service's appsettings.json with Kestrel endpoints.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = contentRoot });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        // Once started, the server's addresses are the ones it bound (the port it was given).
        return new LoopbackApp(app, new Uri(app.Urls.First()));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
