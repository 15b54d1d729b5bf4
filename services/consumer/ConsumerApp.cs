using Mesh.ServiceDefaults;

namespace Mesh.Consumer;

/// <summary>The consumer as one app: what Program.cs runs and the tests host.</summary>
public static class ConsumerApp
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

        builder.AddServiceDefaults("consumer");
        builder.AddConsumer();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        return app;
    }
}
