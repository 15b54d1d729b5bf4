using Mesh.ServiceDefaults;

namespace Mesh.Producer;

/// <summary>The producer as one app: what Program.cs runs and the tests host.</summary>
public static class ProducerApp
{
    /// <summary>Builds the app; <paramref name="overrides"/> (tests) go over every other configuration source.</summary>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        // Settings ship next to the binary; relative data paths resolve against the current directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.AddServiceDefaults("producer");
        builder.AddProducer();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        return app;
    }
}
