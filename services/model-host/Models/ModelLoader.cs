using Mesh.ModelHost.Options;
using Microsoft.Extensions.Options;

namespace Mesh.ModelHost.Models;

/// <summary>
/// Loads the repository and the MLflow models in the background after start, so liveness answers at once
/// and readiness (ServerReady, <c>/health</c>) turns true only when every model was tried and warmed up;
/// then polls MLflow aliases for new versions.
/// </summary>
internal sealed class ModelLoader(ModelCatalog catalog, MlflowModelSource mlflow, IOptions<ModelHostOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var repository = settings.ResolveModelRepository();
        await Task.Run(
            () =>
            {
                // With MLflow models configured the repository is optional.
                if (Directory.Exists(repository))
                {
                    catalog.LoadAll(repository, settings.DefaultSessionSettings(), settings.Batching.ToSettings(), stoppingToken);
                }
            },
            stoppingToken);
        await mlflow.LoadAllAsync(stoppingToken);
        catalog.CompleteLoading(mlflow.HasModels ? $"{repository} and MLflow" : repository);
        await mlflow.PollAsync(stoppingToken);
    }
}
