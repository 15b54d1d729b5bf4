using Dapr.Client;

namespace Mesh.Router.Experiments.Dapr;

public static class DaprExperimentSourceExtensions
{
    /// <summary>
    /// With <c>Router:Experiments:Source=Dapr</c>: reads the spec from the Dapr configuration store before the router
    /// starts (waiting up to StartWaitSeconds for the sidecar), keeps it in <see cref="DaprSourceOptions.SpecFile"/>
    /// and points Router:ExperimentFile there, then subscribes for changes. A store that does not answer, or answers
    /// with an invalid spec, stops the start (exit 78) with a message naming the setting.
    /// </summary>
    public static IHostApplicationBuilder AddDaprExperimentSource(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ExperimentSourceOptions.SectionName).Get<ExperimentSourceOptions>() ?? new ExperimentSourceOptions();
        var failure = options.IsDapr ? LoadInitialSpec(options.Dapr) : null;
        builder.Services.AddOptions<ExperimentSourceOptions>()
            .BindConfiguration(ExperimentSourceOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(_ => failure is null, failure ?? "")
            .ValidateOnStart();
        if (!options.IsDapr)
        {
            return builder;
        }

        if (failure is null)
        {
            builder.Configuration.AddInMemoryCollection([new("Router:ExperimentFile", options.Dapr.SpecFile)]);
        }

        builder.Services.AddSingleton<DaprSourceState>();
        builder.Services.AddHostedService<DaprExperimentSubscriber>();
        builder.Services.AddHealthChecks().AddCheck<DaprSourceHealthCheck>("dapr-experiments");
        return builder;
    }

    private static string? LoadInitialSpec(DaprSourceOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Store))
        {
            return "Router:Experiments:Dapr:Store is required when Router:Experiments:Source is Dapr: the configuration store Component's name.";
        }

        using var client = DaprClients.Create(options);
        var deadline = DateTime.UtcNow.AddSeconds(options.StartWaitSeconds);
        while (true)
        {
            try
            {
                using var call = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var response = client.GetConfiguration(options.Store, [options.Key], cancellationToken: call.Token).GetAwaiter().GetResult();
                var text = DaprSpecFile.Validate(response.Items.TryGetValue(options.Key, out var item) ? item.Value : null, options, out var error);
                if (text is null)
                {
                    return error;
                }

                DaprSpecFile.Write(options.SpecFile, text);
                return null;
            }
            catch (Exception e) when (e is global::Dapr.DaprException or OperationCanceledException or Grpc.Core.RpcException)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    return $"Router:Experiments:Dapr:Store: the Dapr configuration store '{options.Store}' did not answer " +
                        $"(sidecar {(string.IsNullOrWhiteSpace(options.GrpcEndpoint) ? "at Dapr's default endpoint" : options.GrpcEndpoint)}, waited {options.StartWaitSeconds} s): " +
                        (e.InnerException?.Message ?? e.Message);
                }

                Thread.Sleep(500);
            }
        }
    }
}
