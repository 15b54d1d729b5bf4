using Mesh.ModelHost.Options;
using Microsoft.Extensions.Options;

namespace Mesh.ModelHost.Models;

/// <summary>
/// Loads the repository in the background after start, so liveness answers at once and readiness
/// (ServerReady, <c>/health</c>) turns true only when every model was tried and warmed up.
/// </summary>
internal sealed class ModelLoader(ModelCatalog catalog, IOptions<ModelHostOptions> options) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        return Task.Run(() => catalog.LoadAll(settings.ResolveModelRepository(), settings.DefaultSessionSettings(), settings.Batching.ToSettings(), stoppingToken), stoppingToken);
    }
}
