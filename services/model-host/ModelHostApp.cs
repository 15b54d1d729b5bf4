using Mesh.ServiceDefaults;

namespace Mesh.ModelHost;

/// <summary>
/// The one place the model host is built: Program.cs and the tests both call <see cref="Create"/>, so the
/// tests host exactly what production runs.
/// </summary>
public static class ModelHostApp
{
    /// <summary>
    /// Builds the model host from <paramref name="args"/> and the usual configuration sources, with
    /// <paramref name="overrides"/> on top (tests bind <c>http://127.0.0.1:0</c> and read the port back
    /// with <see cref="GetEndpointUri"/>).
    /// </summary>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        // Settings ship next to the binary; a relative ModelHost:ModelRepository resolves against the current directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        // Kestrel hands over the named endpoints' listen options, so a caller that binds port 0 can learn which port is which.
        var endpoints = new BoundEndpoints();
        builder.WebHost.ConfigureKestrel((context, kestrel) => kestrel
            .Configure(context.Configuration.GetSection("Kestrel"))
            .Endpoint(BoundEndpoints.GrpcName, endpoint => endpoints.Remember(BoundEndpoints.GrpcName, endpoint.ListenOptions))
            .Endpoint(BoundEndpoints.HttpName, endpoint => endpoints.Remember(BoundEndpoints.HttpName, endpoint.ListenOptions)));
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
        var listen = app.Services.GetRequiredService<BoundEndpoints>().Find(endpointName)
            ?? throw new InvalidOperationException($"Kestrel endpoint '{endpointName}' is not configured or the app is not started.");
        var bound = listen.IPEndPoint ?? throw new InvalidOperationException($"Kestrel endpoint '{endpointName}' is not an IP endpoint.");
        return new Uri($"http://{bound}");
    }
}
