namespace Mesh.Router.Tests;

/// <summary>What an SRE reads off the router's /metrics: error counters from zero, latency in seconds, in-flight batches and circuit state per arm.</summary>
[Collection(MetricsCollection.Name)]
public sealed class RouterMetricsTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Metrics_FreshRouter_ErrorCountersAndCircuitStateExistAtZero()
    {
        var experiment = "zero-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, "model-champion", timeoutMs: 120000));
        using var http = router.CreateHttpClient(token: null);
        (string, string)[] arm = [("experiment", experiment), ("arm", "champion")];

        // Not a single record yet: every error series is already there, at 0.
        var page = await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_circuit_rejections_total", arm) is not null, s_patience, "the arm's counters");
        foreach (var errorClass in new[] { "decode", "validation", "inference" })
        {
            Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_dead_letters_total", ("error_class", errorClass)));
        }

        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_records_total"));
        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_predictions_total"));
        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_circuit_rejections_total", arm));
        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_fallbacks_total", arm));
        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_host_busy_total", arm));
        Assert.Equal(1, PrometheusScrape.Value(page, "mesh_router_circuit_state", [.. arm, ("state", "closed")]));
        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_circuit_state", [.. arm, ("state", "open")]));
    }

    [Fact]
    public async Task Metrics_ExportingRouterPredicts_SpanExportCountedAndNoneDropped()
    {
        const int Count = 5;
        var experiment = "otlp-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        // A collector address nothing listens on: spans are exported (and fail) in the background, records flow on.
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, "model-champion", timeoutMs: 120000),
            new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9", ["OTEL_BSP_SCHEDULE_DELAY"] = "100" });
        using var http = router.CreateHttpClient(token: null);

        var page = await http.GetStringAsync("/metrics");
        Assert.Equal(0, PrometheusScrape.Value(page, "otel_sdk_processor_span_processed_total", ("error_type", "queue_full")));
        Assert.Equal(2048, PrometheusScrape.Value(page, "otel_sdk_processor_span_queue_capacity"));

        router.Produce(RouterTestHost.Records("otlp", Count, entities: Count));
        Assert.Equal(Count, router.ReadPredictions(Count, s_patience).Count);
        page = await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "otel_sdk_processor_span_processed_total") >= Count, s_patience, "the record spans exported");
        Assert.Equal(0, PrometheusScrape.Value(page, "otel_sdk_processor_span_processed_total", ("error_type", "queue_full")));
    }

    [Fact]
    public async Task Metrics_RecordsPredicted_EndToEndAndCallLatencyInSecondsPerArm()
    {
        const int Count = 12;
        var experiment = "e2e-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, "model-champion", timeoutMs: 120000));
        using var http = router.CreateHttpClient(token: null);
        (string, string)[] arm = [("experiment", experiment), ("arm", "champion")];

        router.Produce(RouterTestHost.Records("e2e", Count, entities: Count));
        Assert.Equal(Count, router.ReadPredictions(Count, s_patience).Count);

        var page = await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_end_to_end_duration_seconds_count", arm) == Count, s_patience, $"{Count} end-to-end latencies");
        // A real histogram with buckets from 1 ms to 10 s: everything below the top one, nothing below zero.
        Assert.Equal(Count, PrometheusScrape.Value(page, "mesh_router_end_to_end_duration_seconds_bucket", [.. arm, ("le", "10")]));
        Assert.NotNull(PrometheusScrape.Value(page, "mesh_router_end_to_end_duration_seconds_bucket", [.. arm, ("le", "0.001")]));
        var sum = PrometheusScrape.Value(page, "mesh_router_end_to_end_duration_seconds_sum", arm)!.Value;
        Assert.InRange(sum / Count, 0, 60);
        Assert.True(PrometheusScrape.Value(page, "rpc_client_call_duration_seconds_count", arm) >= 1);
        Assert.Null(PrometheusScrape.Value(page, "mesh_router_inference_duration_milliseconds_count", arm));

        // Every record done and its offset committed: the group's lag on each features partition falls to 0.
        (string, string)[] group = [("messaging_consumer_group_name", router.GroupId), ("messaging_destination_name", router.Features)];
        page = await PrometheusScrape.UntilAsync(http,
            p => PrometheusScrape.Value(p, "messaging_kafka_consumer_lag", [.. group, ("messaging_destination_partition_id", "0")]) == 0 &&
                 PrometheusScrape.Value(p, "messaging_kafka_consumer_lag", [.. group, ("messaging_destination_partition_id", "1")]) == 0,
            s_patience, "the lag of both features partitions at 0");
        Assert.Equal(1, PrometheusScrape.Value(page, "messaging_kafka_consumer_rebalances_total", [("messaging_consumer_group_name", router.GroupId), ("event", "assigned")]));
        Assert.Equal(0, PrometheusScrape.Value(page, "messaging_kafka_consumer_rebalances_total", [("messaging_consumer_group_name", router.GroupId), ("event", "lost")]));
    }

    [Fact]
    public async Task Metrics_BatchesHangThenHostFails_InFlightCountsThemAndCircuitShowsOpen()
    {
        var experiment = "state-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, FakeModelHost.GatedModel, timeoutMs: 120000),
            new Dictionary<string, string?> { ["Router:Batching:MaxBatchSize"] = "1", ["Router:Batching:MaxInFlightBatches"] = "4" });
        using var http = router.CreateHttpClient(token: null);
        (string, string)[] arm = [("experiment", experiment), ("arm", "champion")];

        router.Produce(RouterTestHost.Records("hang", 3, entities: 3));
        await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_batches_in_flight", arm) == 3, s_patience, "3 batches in flight");

        modelHost.ReleaseGate();
        router.ReadPredictions(3, s_patience);
        await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_batches_in_flight", arm) == 0, s_patience, "no batch in flight");
    }

    [Fact]
    public async Task Metrics_ArmKeepsFailing_CircuitStateOpenIsOne()
    {
        var experiment = "open-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, FakeModelHost.BrokenModel, timeoutMs: 120000),
            new Dictionary<string, string?>
            {
                ["Router:Batching:MaxBatchSize"] = "1",
                ["Router:CircuitBreaker:FailureThreshold"] = "2",
                ["Router:CircuitBreaker:BreakMs"] = "3600000",
            });
        using var http = router.CreateHttpClient(token: null);
        (string, string)[] arm = [("experiment", experiment), ("arm", "champion")];

        router.Produce(RouterTestHost.Records("open", 6, entities: 6));
        router.ReadDeadLetters(6, s_patience);

        var page = await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_circuit_state", [.. arm, ("state", "open")]) == 1, s_patience, "the circuit open");
        Assert.Equal(0, PrometheusScrape.Value(page, "mesh_router_circuit_state", [.. arm, ("state", "closed")]));
        Assert.True(PrometheusScrape.Value(page, "mesh_router_dead_letters_total", ("error_class", "inference")) >= 6);
    }
}
