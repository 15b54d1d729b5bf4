using Mesh.ServiceDefaults;

namespace Mesh.MetricsSink;

/// <summary>The metrics sink as one app: what Program.cs runs and the tests host.</summary>
public static class MetricsSinkApp
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

        builder.AddServiceDefaults("metrics-sink");
        builder.AddMetricsSink();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapMetricsSinkEndpoints();
        return app;
    }
}
