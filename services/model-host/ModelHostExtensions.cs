using Mesh.ModelHost.Http;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Mesh.ServiceDefaults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
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

    /// <summary>
    /// Builds the model host exactly as Program.cs does, with configuration overrides on top, so tests and
    /// tools can host it in-process (for example on <c>http://127.0.0.1:0</c>).
    /// </summary>
    public static WebApplication CreateApp(IReadOnlyDictionary<string, string?> overrides, string[]? args = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args ?? [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(overrides);

        // Remember the named Kestrel endpoints so a caller that binds port 0 can learn which port is which.
        var endpoints = new BoundEndpoints();
        builder.WebHost.ConfigureKestrel((context, kestrel) => kestrel
            .Configure(context.Configuration.GetSection("Kestrel"))
            .Endpoint(BoundEndpoints.GrpcName, endpoint => endpoints.Grpc = endpoint.ListenOptions)
            .Endpoint(BoundEndpoints.HttpName, endpoint => endpoints.Http = endpoint.ListenOptions));
        builder.Services.AddSingleton(endpoints);

        builder.AddServiceDefaults("model-host");
        builder.AddModelHost();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapModelHost();
        return app;
    }

    /// <summary>The address the named Kestrel endpoint (<c>Grpc</c> or <c>Http</c>) is bound to, once started.</summary>
    public static Uri GetEndpointUri(this WebApplication app, string endpointName)
    {
        var endpoints = app.Services.GetRequiredService<BoundEndpoints>();
        var listen = (endpointName == BoundEndpoints.GrpcName ? endpoints.Grpc : endpointName == BoundEndpoints.HttpName ? endpoints.Http : null)
            ?? throw new InvalidOperationException($"Kestrel endpoint '{endpointName}' is not configured or the app is not started.");
        var bound = listen.IPEndPoint ?? throw new InvalidOperationException($"Kestrel endpoint '{endpointName}' is not an IP endpoint.");
        return new Uri($"http://{bound}");
    }

    internal sealed class BoundEndpoints
    {
        public const string GrpcName = "Grpc";
        public const string HttpName = "Http";

        public ListenOptions? Grpc { get; set; }

        public ListenOptions? Http { get; set; }
    }
}
