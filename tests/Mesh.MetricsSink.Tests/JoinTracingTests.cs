namespace Mesh.MetricsSink.Tests;

/// <summary>
/// One trace across prediction and label: the sink's join span links to the prediction's trace and to the label's,
/// whichever of the two came first. The listener hears only the sink's ActivitySource, and only this test's
/// experiment or traces (other tests in the process use the same source).
/// </summary>
public sealed class JoinTracingTests : IDisposable
{
    private readonly string _experiment = "trace-" + Guid.NewGuid().ToString("N");
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ConcurrentDictionary<ActivityTraceId, bool> _traces = new();
    private readonly ActivityListener _listener;

    public JoinTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MetricsSinkTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("mesh.experiment") as string == _experiment || activity.Links.Any(l => _traces.ContainsKey(l.Context.TraceId)))
                {
                    _spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Handle_PredictionAndItsLabel_JoinSpanLinksToBothTracesWithMessagingAttributes(bool labelFirst)
    {
        var handler = new MetricsRecordHandler(new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100), "labels", tracer: new JoinTracer("mesh-metrics-sink"));
        var predictionTrace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var labelTrace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var prediction = Make.Prediction("r1", experiment: _experiment);
        prediction.TraceId = predictionTrace.TraceId.ToHexString();
        var predictionRecord = Record("predictions", 3, 41, prediction.ToByteArray(), predictionTrace);
        var labelRecord = Record("labels", 1, 7, Make.Label("r1").ToByteArray(), labelTrace);

        var outcomes = labelFirst
            ? new[] { handler.Handle(labelRecord).Outcome, handler.Handle(predictionRecord).Outcome }
            : [handler.Handle(predictionRecord).Outcome, handler.Handle(labelRecord).Outcome];

        Assert.Equal([JoinOutcome.Pending, JoinOutcome.Joined], outcomes);
        var join = Assert.Single(_spans);
        Assert.Equal("join " + _experiment, join.DisplayName);
        Assert.Equal(("kafka", "mesh-metrics-sink"), (join.GetTagItem("messaging.system"), join.GetTagItem("messaging.consumer.group.name")));
        Assert.Equal(predictionTrace.TraceId.ToHexString(), join.GetTagItem("mesh.prediction.trace_id"));
        var links = join.Links.ToDictionary(l => (string)l.Tags!.Single(t => t.Key == "mesh.join.side").Value!);
        Assert.Equal(["label", "prediction"], links.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((predictionTrace.TraceId, predictionTrace.SpanId), (links["prediction"].Context.TraceId, links["prediction"].Context.SpanId));
        Assert.Equal((labelTrace.TraceId, labelTrace.SpanId), (links["label"].Context.TraceId, links["label"].Context.SpanId));
        var predictionLink = links["prediction"].Tags!.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(("predictions", "3", 41L), (predictionLink["messaging.destination.name"], predictionLink["messaging.destination.partition.id"], predictionLink["messaging.kafka.offset"]));
        var labelLink = links["label"].Tags!.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(("labels", "1", 7L), (labelLink["messaging.destination.name"], labelLink["messaging.destination.partition.id"], labelLink["messaging.kafka.offset"]));
    }

    [Fact]
    public void Handle_MoreWaitingRecordsThanTheTracerHolds_OldestLosesItsLinkAndStillHasAJoinSpan()
    {
        var handler = new MetricsRecordHandler(new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100), "labels", tracer: new JoinTracer("mesh-metrics-sink", capacity: 1));
        var (_, oldest, _) = TracedPrediction("r5");
        var (_, newest, newestTrace) = TracedPrediction("r6");
        handler.Handle(oldest);
        handler.Handle(newest);

        var oldestLabel = NewTrace();
        var newestLabel = NewTrace();

        handler.Handle(Record("labels", 0, 1, Make.Label("r5").ToByteArray(), oldestLabel));
        handler.Handle(Record("labels", 0, 2, Make.Label("r6").ToByteArray(), newestLabel));

        var spans = _spans.ToList();
        Assert.Equal(2, spans.Count);
        Assert.Equal([oldestLabel.TraceId], spans[0].Links.Select(l => l.Context.TraceId));
        Assert.Equal([newestLabel.TraceId, newestTrace.TraceId], spans[1].Links.Select(l => l.Context.TraceId).OrderBy(t => t == newestLabel.TraceId ? 0 : 1));
    }

    [Fact]
    public void Handle_LabelJoinsByEntityAnOlderPredictionThanTheEntitysLatest_JoinSpanLinksToThePredictionItJoined()
    {
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100, Options.JoinBy.EntityTime);
        var handler = new MetricsRecordHandler(joiner, "labels", tracer: new JoinTracer("mesh-metrics-sink"));
        var start = new DateTimeOffset(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);
        var (older, olderRecord, olderTrace) = TracedPrediction("r7", entityId: "e7", start);
        var (_, latestRecord, _) = TracedPrediction("r8", entityId: "e7", start.AddSeconds(30));
        handler.Handle(olderRecord);
        handler.Handle(latestRecord);
        var label = new Label { EntityId = "e7", Value = "setosa", ObservedTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(start.AddSeconds(10)) };

        Assert.Equal(JoinOutcome.Joined, handler.Handle(Record("labels", 0, 3, label.ToByteArray(), NewTrace())).Outcome);

        // Observed at 10 s, the label answers r7 (0 s), not the entity's latest, r8 (30 s).
        var join = Assert.Single(_spans);
        Assert.Equal(older.TraceId, join.GetTagItem("mesh.prediction.trace_id"));
        var prediction = Assert.Single(join.Links, l => (string?)l.Tags!.Single(t => t.Key == "mesh.join.side").Value == "prediction");
        Assert.Equal(olderTrace.TraceId, prediction.Context.TraceId);
    }

    [Fact]
    public void Handle_PredictionWithoutALabel_NoJoinSpan()
    {
        var handler = new MetricsRecordHandler(new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 100), "labels", tracer: new JoinTracer("mesh-metrics-sink"));

        handler.Handle(Record("predictions", 0, 1, Make.Prediction("r2", experiment: _experiment).ToByteArray(), default));

        Assert.Empty(_spans);
    }

    [Fact]
    public async Task FlushAsync_RedisJoinsARecordPairThisSinkRead_JoinSpanIsAChildOfTheLabelsSpanLinkedToBoth()
    {
        await using var redis = await RedisSink.StartAsync();
        var (handler, state) = await redis.SinkAsync();
        var (prediction, predictionRecord, predictionTrace) = TracedPrediction("r3");
        var labelTrace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        Assert.Equal(JoinOutcome.Deferred, handler.Handle(predictionRecord).Outcome);
        ActivitySpanId labelSpan;
        using (var process = MetricsSinkTelemetry.ActivitySource.StartActivity("process labels", ActivityKind.Consumer, labelTrace))
        {
            labelSpan = process!.SpanId;
            Assert.Equal(JoinOutcome.Deferred, handler.Handle(Record("labels", 0, 9, Make.Label("r3").ToByteArray(), labelTrace)).Outcome);
        }

        Assert.Empty(_spans);
        await state.FlushAsync();

        var join = Assert.Single(_spans);
        Assert.Equal((labelTrace.TraceId, labelSpan), (join.TraceId, join.ParentSpanId));
        Assert.Equal(prediction.TraceId, join.GetTagItem("mesh.prediction.trace_id"));
        Assert.Equal([labelTrace.TraceId, predictionTrace.TraceId], join.Links.OrderBy(l => (string)l.Tags!.Single(t => t.Key == "mesh.join.side").Value!, StringComparer.Ordinal).Select(l => l.Context.TraceId));
    }

    [Fact]
    public async Task FlushAsync_RedisJoinsALabelWithAPredictionAnotherSinkRead_JoinSpanNamesThePredictionsTrace()
    {
        await using var redis = await RedisSink.StartAsync();
        var (reader, readerState) = await redis.SinkAsync();
        var (labels, labelsState) = await redis.SinkAsync();
        var (prediction, predictionRecord, _) = TracedPrediction("r4");
        var labelTrace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        reader.Handle(predictionRecord);
        await readerState.FlushAsync();
        labels.Handle(Record("labels", 0, 10, Make.Label("r4").ToByteArray(), labelTrace));
        await labelsState.FlushAsync();

        var join = Assert.Single(_spans);
        Assert.Equal(prediction.TraceId, join.GetTagItem("mesh.prediction.trace_id"));
        var link = Assert.Single(join.Links);
        Assert.Equal((labelTrace.TraceId, labelTrace.SpanId), (link.Context.TraceId, link.Context.SpanId));
    }

    private ActivityContext NewTrace()
    {
        var trace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        _traces[trace.TraceId] = true;
        return trace;
    }

    private (Prediction Prediction, ConsumeResult<byte[], byte[]> Record, ActivityContext Trace) TracedPrediction(string requestId, string? entityId = null, DateTimeOffset? eventTime = null)
    {
        var trace = NewTrace();
        var prediction = Make.Prediction(requestId, experiment: _experiment);
        prediction.TraceId = trace.TraceId.ToHexString();
        if (entityId is not null)
        {
            prediction.EntityId = entityId;
        }

        if (eventTime is { } time)
        {
            prediction.EventTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time);
        }

        return (prediction, Record("predictions", 0, 5, prediction.ToByteArray(), trace), trace);
    }

    private static ConsumeResult<byte[], byte[]> Record(string topic, int partition, long offset, byte[] value, ActivityContext context)
    {
        var headers = new Headers();
        if (context != default)
        {
            headers.Add(MeshHeaders.TraceParent, Encoding.ASCII.GetBytes(MeshHeaders.FormatTraceParent(context)));
        }

        return new ConsumeResult<byte[], byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
            Message = new Message<byte[], byte[]> { Key = [], Value = value, Headers = headers },
        };
    }
}
