using Confluent.Kafka;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Router.Admin;
using Mesh.Router.Bandits;
using Mesh.Router.Deduplication;
using Mesh.Router.Experiments;
using Mesh.Router.Experiments.Dapr;
using Mesh.Router.Inference;
using Mesh.Router.Options;
using Mesh.Router.Routing;
using Mesh.Router.Shedding;
using Mesh.Router.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mesh.Router;

public static class RouterExtensions
{
    public const string ServiceName = "router";

    /// <summary>
    /// Registers the router: options (section <c>Router</c>, validated at start together with the experiment
    /// spec), Kafka, the model host channels, the routing pipeline and the consume loop.
    /// </summary>
    public static IHostApplicationBuilder AddRouter(this IHostApplicationBuilder builder)
    {
        builder.AddMeshKafka();
        builder.AddMeshSchemaRegistry(k => [new(k.Topics.Predictions, Prediction.Descriptor), new(k.Topics.ShadowPredictions, Prediction.Descriptor), new(k.Topics.DeadLetter, DeadLetter.Descriptor)]);
        // Before RouterOptions bind: with Router:Experiments:Source=Dapr it points Router:ExperimentFile at the store's spec.
        builder.AddDaprExperimentSource();
        builder.Services.AddOptions<RouterOptions>()
            .BindConfiguration(RouterOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RouterOptions>, RouterOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<RouterOptions>, ExperimentFileValidator>();

        builder.Services.AddSingleton<RouterTelemetry>();
        builder.Services.AddSingleton<RouterState>();
        builder.Services.AddSingleton<ModelEndpointPool>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IBanditStateStore>(sp =>
        {
            var bandit = sp.GetRequiredService<IOptions<RouterOptions>>().Value.Bandit;
            if (string.IsNullOrWhiteSpace(bandit.Redis))
            {
                return new InMemoryBanditStateStore();
            }

            // Not failing the start when Redis is away: choices go on from the last state and reconnect later.
            var configuration = ConfigurationOptions.Parse(bandit.Redis);
            configuration.AbortOnConnectFail = false;
            return new RedisBanditStateStore(ConnectionMultiplexer.Connect(configuration), bandit.KeyPrefix);
        });
        builder.Services.AddSingleton<ExperimentRegistry>();
        builder.Services.AddSingleton<AdminOperations>();
        builder.Services.AddGrpc();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>(AdminGrpcEndpoint.Configure);
        builder.Services.AddSingleton<OffsetTracker>();
        builder.Services.AddSingleton(sp =>
        {
            var lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mesh.Router");
            var kafka = sp.GetRequiredService<KafkaClientFactory>();
            var router = sp.GetRequiredService<IOptions<RouterOptions>>().Value;
            Action<Error> onFatal = error => FatalError.Stop(lifetime, logger, $"Fatal producer error {error.Code}: {error.Reason}");
            if (!router.ExactlyOnce.Enabled)
            {
                return kafka.CreateProducer("mesh-router", onFatal);
            }

            // Exactly-once: every output and the consumed offsets commit together (RouterWorker drives the transactions).
            var config = kafka.CreateProducerConfig("mesh-router");
            config.TransactionalId = router.ExactlyOnce.ResolveTransactionalId(router.GroupId);
            config.EnableIdempotence = true;
            // Through the factory, so the transactional producer reports broker reachability to /health like the others.
            return kafka.CreateProducer(config, onFatal);
        });
        builder.Services.AddSingleton(sp =>
        {
            var router = sp.GetRequiredService<IOptions<RouterOptions>>().Value;
            if (!router.ExactlyOnce.Enabled)
            {
                return new ShadowProducer(sp.GetRequiredService<IProducer<byte[], byte[]>>(), owned: false);
            }

            var lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mesh.Router");
            return new ShadowProducer(
                sp.GetRequiredService<KafkaClientFactory>().CreateProducer("mesh-router-shadow", error => FatalError.Stop(lifetime, logger, $"Fatal shadow producer error {error.Code}: {error.Reason}")),
                owned: true);
        });
        builder.Services.AddSingleton(sp => new DeadLetterPublisher(
            sp.GetRequiredService<IProducer<byte[], byte[]>>(),
            sp.GetRequiredService<IOptions<KafkaOptions>>().Value.Topics.DeadLetter,
            ServiceName,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<DeadLetterPublisher>(),
            sp.GetRequiredService<WireFormatWriter>()));
        builder.Services.AddSingleton<RecordCompletion>();
        builder.Services.AddSingleton<RequestIdDeduplicator>();
        builder.Services.AddSingleton<LagShedder>();
        builder.Services.AddSingleton<OutputWriter>();
        builder.Services.AddSingleton<ArmCaller>();
        builder.Services.AddSingleton<BatchProcessor>();
        builder.Services.AddSingleton<ArmBatchers>();
        builder.Services.AddSingleton<RebalanceHandler>();
        builder.Services.AddSingleton<RoutingPipeline>();
        builder.Services.AddHostedService<RouterWorker>();
        builder.Services.AddHostedService<ExperimentMaintenance>();
        builder.Services.AddHealthChecks().AddCheck<RouterHealthCheck>(ServiceName);
        return builder;
    }
}
