using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
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
        builder.Services.AddHostedService<ModelLoader>();
        builder.Services.AddGrpc();
        builder.Services.AddGrpcHealthChecks();
        builder.Services.AddHealthChecks().AddCheck<ModelsReadyHealthCheck>("models");
        return builder;
    }

    /// <summary>Maps the Open Inference Protocol service and gRPC health.</summary>
    public static WebApplication MapModelHost(this WebApplication app)
    {
        app.MapGrpcService<InferenceService>();
        app.MapGrpcHealthChecksService();
        return app;
    }

    /// <summary>
    /// Builds the model host exactly as Program.cs does, with configuration overrides on top, so tests and
    /// tools can host it in-process (for example on <c>http://127.0.0.1:0</c>).
    /// </summary>
    public static WebApplication CreateApp(IReadOnlyDictionary<string, string?> overrides, string[]? args = null)
    {
        var builder = WebApplication.CreateBuilder(args ?? []);
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.AddServiceDefaults("model-host");
        builder.AddModelHost();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapModelHost();
        return app;
    }
}
