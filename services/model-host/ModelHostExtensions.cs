using Mesh.ModelHost.Grpc;
using Mesh.ModelHost.Http;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Serving;
using Mesh.ModelHost.Telemetry;
using Mesh.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Mesh.ModelHost;

internal static class ModelHostExtensions
{
    /// <summary>Registers the model host: validated options, the model catalog and its loader, telemetry, gRPC.</summary>
    public static IHostApplicationBuilder AddModelHost(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelHostOptions>()
            .BindConfiguration(ModelHostOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ModelHostOptions>, ModelRepositoryValidator>();
        builder.Services.AddSingleton<ModelHostTelemetry>();
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<InferenceCore>();
        builder.Services.AddSingleton<MlflowModelSource>();
        builder.Services.AddHostedService<ModelLoader>();
        builder.Services.AddGrpc();
        builder.Services.AddGrpcHealthChecks();
        builder.Services.AddHealthChecks().AddCheck<ModelsReadyHealthCheck>("models")
            .AddCheck<MlflowResolveHealthCheck>("mlflow");
        return builder;
    }

    /// <summary>Maps the Open Inference Protocol over gRPC and HTTP/JSON, and gRPC health.</summary>
    public static WebApplication MapModelHost(this WebApplication app)
    {
        app.MapGrpcService<InferenceService>();
        app.MapInferenceHttp();
        app.MapMlflowWebhook();
        app.MapGrpcHealthChecksService();
        return app;
    }
}
