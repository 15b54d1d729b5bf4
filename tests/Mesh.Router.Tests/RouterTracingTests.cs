namespace Mesh.Router.Tests;

/// <summary>One trace per record through the router, as a trace viewer shows it: the record's span, the batch call linked to it, the Prediction continuing it.</summary>
public sealed class RouterTracingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const string ModelInferSpan = "inference.GRPCInferenceService/ModelInfer";
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Trace_RecordsWithTraceparent_RecordSpansCarryMessagingAttributesBatchLinksEachAndPredictionContinuesIt()
    {
        const int Count = 6;
        var experiment = "trace-" + Guid.NewGuid().ToString("N")[..8];
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Mesh.Router",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, "model-champion"),
            // Several records per batch, so a batch span has several records' traces to link to.
            new Dictionary<string, string?> { ["Router:Batching:MaxDelayMs"] = "200" }, partitions: 1);

        // Each record arrives with its producer's span context, as the producer service sends it.
        var producerSpans = new Dictionary<string, ActivityContext>();
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            foreach (var record in RouterTestHost.Records("traced", Count, entities: Count))
            {
                var context = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
                producerSpans[record.RequestId] = context;
                var headers = new Headers { { MeshHeaders.TraceParent, Encoding.ASCII.GetBytes(MeshHeaders.FormatTraceParent(context)) } };
                producer.Produce(router.Features, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(record.EntityId), Value = record.ToByteArray(), Headers = headers });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var predictions = cluster.ReadAll(router.Predictions, Count, s_patience);
        Assert.Equal(Count, predictions.Count);
        var traces = producerSpans.Values.Select(c => c.TraceId).ToHashSet();
        var recordSpans = await UntilAsync(() => stopped.Where(a => a.Kind == ActivityKind.Consumer && traces.Contains(a.TraceId)).ToList(), s => s.Count == Count);

        foreach (var span in recordSpans)
        {
            var requestId = (string)span.GetTagItem("mesh.request_id")!;
            Assert.Equal(producerSpans[requestId].SpanId, span.ParentSpanId);
            Assert.Equal("process " + router.Features, span.OperationName);
            Assert.Equal("kafka", span.GetTagItem("messaging.system"));
            Assert.Equal(router.Features, span.GetTagItem("messaging.destination.name"));
            Assert.Equal("0", span.GetTagItem("messaging.destination.partition.id"));
            Assert.IsType<long>(span.GetTagItem("messaging.kafka.offset"));
            Assert.Equal(router.GroupId, span.GetTagItem("messaging.consumer.group.name"));
            Assert.Equal(experiment, span.GetTagItem("mesh.experiment"));
            Assert.Equal("champion", span.GetTagItem("mesh.arm"));
            // One experiment reads the topic: its attributes say the choice, no event repeats them on every record.
            Assert.DoesNotContain(span.Events, e => e.Name == "mesh.arm_chosen");
        }

        // The Prediction carries the record's span as its parent: the metrics sink's span continues the same trace.
        var bySpan = recordSpans.ToDictionary(s => s.SpanId);
        foreach (var prediction in predictions)
        {
            var context = MeshHeaders.ExtractTraceContext(prediction.Message.Headers);
            var recordSpan = bySpan[context.SpanId];
            Assert.Equal(recordSpan.TraceId, context.TraceId);
            Assert.Equal(Prediction.Parser.ParseFrom(prediction.Message.Value).RequestId, recordSpan.GetTagItem("mesh.request_id"));
        }

        // Every record's span is linked from the batch call that scored it; the call is a trace of its own.
        var calls = stopped.Where(a => a.OperationName == ModelInferSpan && (string?)a.GetTagItem("mesh.experiment") == experiment).ToList();
        Assert.NotEmpty(calls);
        Assert.Equal(bySpan.Keys.Select(k => k.ToHexString()).Order(), calls.SelectMany(c => c.Links).Select(l => l.Context.SpanId.ToHexString()).Order());
        Assert.All(calls, c => Assert.DoesNotContain(c.TraceId, traces));
        Assert.All(calls, c => Assert.Equal(ActivityKind.Client, c.Kind));
        Assert.Contains(calls, c => c.Links.Count() > 1);
    }

    private static async Task<T> UntilAsync<T>(Func<T> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + s_patience;
        var value = read();
        while (!done(value))
        {
            Assert.True(DateTime.UtcNow < deadline, "the spans never all stopped");
            await Task.Delay(100);
            value = read();
        }

        return value;
    }
}
