using Mesh.Router.Admin;
using Mesh.ServiceDefaults;

namespace Mesh.Router;

/// <summary>The router application, built one way for Program.cs and for the tests that host it in-process.</summary>
public static class RouterApp
{
    /// <summary>
    /// Builds the router with the service defaults, its registrations and its endpoints. <paramref name="overrides"/>
    /// go on top of every other configuration source (tests and tools use them); <paramref name="replace"/> registers
    /// services over the router's own (a test's clock).
    /// </summary>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? replace = null)
    {
        // Settings ship next to the binary; a relative Router:ExperimentFile resolves against the current directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.AddServiceDefaults(RouterExtensions.ServiceName);
        builder.AddRouter();
        replace?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapRouterAdmin();
        return app;
    }
}
