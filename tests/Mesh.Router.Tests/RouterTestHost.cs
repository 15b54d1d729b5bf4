using Microsoft.AspNetCore.Hosting.Server;

namespace Mesh.Router.Tests;

/// <summary>The router in-process on its own topics (unique per test) and its own experiment file.</summary>
internal sealed class RouterTestHost : IAsyncDisposable
{
    public const string AdminToken = "router-test-admin-token-0123456789";

    private readonly KafkaTestCluster _cluster;
    private bool _stopped;

    private RouterTestHost(KafkaTestCluster cluster, string experimentFile, WebApplication app, string features, string predictions, string shadows, string deadLetters, string groupId, string grpcAddress)
    {
        GrpcAddress = grpcAddress;
        _cluster = cluster;
        ExperimentFile = experimentFile;
        App = app;
        Features = features;
        Predictions = predictions;
        ShadowPredictions = shadows;
        DeadLetters = deadLetters;
        GroupId = groupId;
    }

    public WebApplication App { get; }

    public string ExperimentFile { get; }

    public string Features { get; }

    public string Predictions { get; }

    public string ShadowPredictions { get; }

    public string DeadLetters { get; }

    public string GroupId { get; }

    public string BaseAddress => App.Urls.First(u => u != GrpcAddress);

    /// <summary>The admin gRPC endpoint (HTTP/2 cleartext).</summary>
    public string GrpcAddress { get; }

    /// <summary>
    /// Starts a router on fresh topics; <paramref name="time"/>, when given, is its clock (batch deadlines, the circuit,
    /// the dedupe window), so a test moves time instead of waiting for it.
    /// </summary>
    public static async Task<RouterTestHost> StartAsync(KafkaTestCluster cluster, string experimentYaml, IDictionary<string, string?>? settings = null, int partitions = 2, TimeProvider? time = null)
    {
        var features = KafkaTestCluster.UniqueTopic("router-test.features");
        var predictions = KafkaTestCluster.UniqueTopic("router-test.predictions");
        var shadows = KafkaTestCluster.UniqueTopic("router-test.shadow");
        var deadLetters = KafkaTestCluster.UniqueTopic("router-test.dead-letter");
        var groupId = "router-test-" + Guid.NewGuid().ToString("N");
        await cluster.CreateTopicsAsync(partitions, features, predictions, shadows, deadLetters);
        var experimentFile = Path.Combine(Path.GetTempPath(), $"router-test-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(experimentFile, experimentYaml);
        var overrides = new Dictionary<string, string?>
        {
            // Port 0 everywhere: the bound addresses are read back once Kestrel listens, so tests never race for a port.
            ["Router:Admin:GrpcUrl"] = "http://127.0.0.1:0",
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Mesh.Router.Routing.RoutingPipeline"] = "Error",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topics:Features"] = features,
            ["Kafka:Topics:Predictions"] = predictions,
            ["Kafka:Topics:ShadowPredictions"] = shadows,
            ["Kafka:Topics:DeadLetter"] = deadLetters,
            ["Router:ExperimentFile"] = experimentFile,
            ["Router:GroupId"] = groupId,
            ["Router:ModelWaitSeconds"] = "30",
            ["Router:ReloadIntervalMs"] = "200",
            ["Router:Admin:Token"] = AdminToken,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var app = RouterApp.Create([], overrides, time is null ? null : services => services.AddSingleton(time));
        await app.StartAsync();

        // Kestrel reports the endpoints in the order AdminGrpcEndpoint listens on them: Urls first, the gRPC one last.
        var grpcAddress = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Last();

        // StartAsync returns with the host up; the experiments are loaded (and the model hosts waited for) on the
        // consume thread, so wait for it to be consuming before the test talks to the admin API.
        var state = app.Services.GetRequiredService<RouterState>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (state.Status == RouterStatus.Starting && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        if (state.Status != RouterStatus.Consuming)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"The router did not start consuming: {state.Status}.");
        }
        return new RouterTestHost(cluster, experimentFile, app, features, predictions, shadows, deadLetters, groupId, grpcAddress);
    }

    /// <summary>Records <c>{prefix}-{i}</c> for entities <c>entity-{i % entities}</c>, first feature <c>i % 10</c>.</summary>
    public static List<FeatureRecord> Records(string prefix, int count, int entities) =>
        Enumerable.Range(0, count).Select(i => new FeatureRecord
        {
            RequestId = $"{prefix}-{i}",
            EntityId = $"entity-{i % entities}",
            EventTime = ProtoTimestamp.FromDateTime(DateTime.UtcNow),
            Values = { i % 10, 1, 2, 3 },
        }).ToList();

    public void Produce(IEnumerable<FeatureRecord> records) =>
        Produce(records.Select(r => new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(r.EntityId), Value = r.ToByteArray() }));

    /// <summary>Produces the messages as they are (a replayed record's headers, say) to the features topic.</summary>
    public void Produce(IEnumerable<Message<byte[], byte[]>> messages)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = _cluster.BootstrapServers }).Build();
        foreach (var message in messages)
        {
            producer.Produce(Features, message);
        }

        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0)
        {
            throw new InvalidOperationException("The test records were not all acknowledged.");
        }
    }

    public List<Prediction> ReadPredictions(int expected, TimeSpan patience) =>
        _cluster.ReadAll(Predictions, expected, patience).Select(r => Prediction.Parser.ParseFrom(r.Message.Value)).ToList();

    public List<Prediction> ReadShadowPredictions(int expected, TimeSpan patience) =>
        _cluster.ReadAll(ShadowPredictions, expected, patience).Select(r => Prediction.Parser.ParseFrom(r.Message.Value)).ToList();

    public List<DeadLetter> ReadDeadLetters(int expected, TimeSpan patience) =>
        _cluster.ReadAll(DeadLetters, expected, patience).Select(r => DeadLetter.Parser.ParseFrom(r.Message.Value)).ToList();

    /// <summary>Writes <paramref name="experimentYaml"/> as the experiment file and asks the admin API to reload it: what it answered.</summary>
    public async Task<(HttpStatusCode Status, string Body)> ReloadAsync(string experimentYaml)
    {
        await File.WriteAllTextAsync(ExperimentFile, experimentYaml);
        using var admin = CreateHttpClient();
        using var reload = await admin.PostAsync("/admin/reload", null);
        return (reload.StatusCode, await reload.Content.ReadAsStringAsync());
    }

    /// <summary>Reloads <paramref name="experimentYaml"/> and asserts the admin API refused it (409) with a body saying each of <paramref name="bodySays"/>.</summary>
    public async Task AssertReloadRefusedAsync(string experimentYaml, params string[] bodySays)
    {
        var (status, body) = await ReloadAsync(experimentYaml);

        Assert.Equal(HttpStatusCode.Conflict, status);
        foreach (var text in bodySays)
        {
            Assert.Contains(text, body, StringComparison.Ordinal);
        }
    }

    public HttpClient CreateHttpClient(string? token = AdminToken)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseAddress) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>Stops the router cleanly (as on SIGTERM: it commits what it processed); disposing afterwards only releases it.</summary>
    public async Task StopAsync()
    {
        _stopped = true;
        await App.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_stopped)
            {
                await App.StopAsync();
            }
        }
        finally
        {
            await App.DisposeAsync();
            File.Delete(ExperimentFile);
        }
    }
}
