using Dapr.Client;

namespace Mesh.Router.Experiments.Dapr;

/// <summary>Builds the Dapr client for the configured sidecar endpoint.</summary>
internal static class DaprClients
{
    public static DaprClient Create(DaprSourceOptions options)
    {
        var builder = new DaprClientBuilder();
        if (!string.IsNullOrWhiteSpace(options.GrpcEndpoint))
        {
            builder.UseGrpcEndpoint(options.GrpcEndpoint.Trim());
        }

        return builder.Build();
    }
}
