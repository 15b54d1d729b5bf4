namespace Mesh.MetricsSink.Tests;

/// <summary>
/// The join state shared through a real redis-server the test starts: two joiners on one Redis stand for two
/// metrics-sink instances, a new joiner on the same Redis for a restarted one.
/// </summary>
public sealed class RedisJoinStateTests : IAsyncLifetime
{
    private RedisSink _redis = null!;
    private ConnectionMultiplexer _admin = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisSink.StartAsync();
        _admin = await _redis.ConnectAsync();
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task FlushAsync_PredictionOnOneInstanceLabelOnAnother_JoinsOnceWhereTheLabelArrives()
    {
        var time = new ManualTimeProvider();
        var (a, stateA) = await SinkAsync(time);
        var (b, stateB) = await SinkAsync(time);

        Assert.Equal(JoinOutcome.Deferred, a.AddPrediction(Make.Prediction("r1", predicted: "setosa")));
        await stateA.FlushAsync();
        Assert.Equal(JoinOutcome.Deferred, b.AddLabel(Make.Label("r1", "setosa")));
        await stateB.FlushAsync();
        // The same label redelivered to A, which holds the prediction: B joined it already.
        Assert.Equal(JoinOutcome.Deferred, a.AddLabel(Make.Label("r1", "setosa")));
        await stateA.FlushAsync();

        var sa = a.Snapshot();
        var sb = b.Snapshot();
        Assert.Equal((1L, 0L, 0L, 1L), (sa.Predictions, sa.Labels, sa.Joined, sa.PendingPredictions));
        Assert.Equal((0L, 1L, 1L, 0L), (sb.Predictions, sb.Labels, sb.Joined, sb.PendingLabels));
        var arm = Assert.Single(Assert.Single(sb.Experiments).Arms);
        Assert.Equal(("logreg", 0L, 1L, 1L, 1.0), (arm.Arm, arm.Predictions, arm.Joined, arm.Correct, arm.Accuracy));
        Assert.Equal((0L, 1L), (a.RemoteJoins, b.RemoteJoins));

        // When A's prediction expires, Redis says it was joined elsewhere: not counted as unjoined.
        time.Advance(TimeSpan.FromSeconds(601));
        Assert.Equal(new ExpiryResult(1, 0, 0), a.Expire());
        await stateA.FlushAsync();
        Assert.Equal(new ExpiryResult(0, 0, 0), a.Expire());
        Assert.Equal((0L, 0L), (a.Snapshot().PendingPredictions, a.UnjoinedPredictions));
    }

    [Fact]
    public async Task FlushAsync_DeferredRecords_CountAsDecidedOnlyOnceRedisAnswered()
    {
        // The consume loop stores a deferred record's offset only when AppliedThrough reaches the sequence it was
        // given: a crash before Redis answered replays the record instead of losing its shared copy.
        var (joiner, state) = await SinkAsync(new ManualTimeProvider());

        Assert.Equal(JoinOutcome.Deferred, joiner.AddPrediction(Make.Prediction("r1")));
        var prediction = joiner.EnqueuedThrough;
        Assert.Equal(JoinOutcome.Deferred, joiner.AddLabel(Make.Label("r1")));
        var label = joiner.EnqueuedThrough;
        Assert.Equal((1L, 2L, 0L), (prediction, label, joiner.AppliedThrough));

        Assert.Equal(2, await state.FlushAsync());
        Assert.Equal(2L, joiner.AppliedThrough);
        Assert.Equal(1L, joiner.Snapshot().Joined);
    }

    [Fact]
    public async Task FlushAsync_RestartedJoiner_JoinsALabelToThePredictionsTheOldOneStored()
    {
        var time = new ManualTimeProvider();
        var (before, stateBefore) = await SinkAsync(time);
        before.AddPrediction(Make.Prediction("r1", arm: "logreg", predicted: "setosa"));
        before.AddPrediction(Make.Prediction("r1", arm: "candidate", predicted: "versicolor", shadow: true));
        await stateBefore.FlushAsync();

        var (after, stateAfter) = await SinkAsync(time);
        Assert.Equal(JoinOutcome.Deferred, after.AddLabel(Make.Label("r1", "setosa")));
        await stateAfter.FlushAsync();

        var summary = after.Snapshot();
        Assert.Equal((0L, 1L, 2L, 0L, 0L), (summary.Predictions, summary.Labels, summary.Joined, summary.PendingPredictions, summary.PendingLabels));
        var arms = Assert.Single(summary.Experiments).Arms.ToDictionary(a => a.Arm);
        Assert.Equal((1L, 1L, "iris-logreg"), (arms["logreg"].Joined, arms["logreg"].Correct, arms["logreg"].Model));
        Assert.Equal((1L, 0L, true), (arms["candidate"].Joined, arms["candidate"].Correct, arms["candidate"].Shadow));
        Assert.Equal(2L, after.RemoteJoins);
        // The records (beside them, the marks of who joined each prediction and of what was counted).
        var fields = (await Database().HashKeysAsync(_redis.Prefix + "r1")).Select(f => f.ToString()).Where(f => f == "l" || f.StartsWith("p:", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(["l", "p:iris-ab\u001fcandidate\u001f1", "p:iris-ab\u001flogreg\u001f0"], fields);
    }

    [Fact]
    public async Task FlushAsync_NewRecords_KeyTtlIsTheWindowPlusTheMargin()
    {
        var (joiner, state) = await SinkAsync(new ManualTimeProvider(), windowSeconds: 600, marginSeconds: 60);
        joiner.AddPrediction(Make.Prediction("r1"));
        await state.FlushAsync();
        var afterPrediction = await Database().KeyTimeToLiveAsync(_redis.Prefix + "r1");
        joiner.AddLabel(Make.Label("r1"));
        await state.FlushAsync();
        var afterLabel = await Database().KeyTimeToLiveAsync(_redis.Prefix + "r1");

        // 660 s from the last new record, so never more than that; a minute of slack below for a slow machine.
        Assert.InRange(afterPrediction!.Value.TotalMilliseconds, 600_000, 660_000);
        Assert.InRange(afterLabel!.Value.TotalMilliseconds, 600_000, 660_000);
        Assert.Equal(1L, joiner.Snapshot().Joined);
    }

    [Fact]
    public async Task FlushAsync_ShortWindow_KeyIsGoneAfterItsTtlAndALateLabelWaits()
    {
        var time = new ManualTimeProvider();
        var (a, stateA) = await SinkAsync(time, windowSeconds: 1, marginSeconds: 1);
        var (b, stateB) = await SinkAsync(time, windowSeconds: 1, marginSeconds: 1);
        a.AddPrediction(Make.Prediction("r1"));
        await stateA.FlushAsync();
        Assert.InRange((await Database().KeyTimeToLiveAsync(_redis.Prefix + "r1"))!.Value.TotalMilliseconds, 1, 2_000);

        // Redis expires the key on its own clock; nothing here deletes it.
        for (var i = 0; i < 300 && await Database().KeyExistsAsync(_redis.Prefix + "r1"); i++)
        {
            await Task.Delay(100);
        }

        Assert.False(await Database().KeyExistsAsync(_redis.Prefix + "r1"));
        Assert.Equal(JoinOutcome.Deferred, b.AddLabel(Make.Label("r1")));
        await stateB.FlushAsync();
        var summary = b.Snapshot();
        Assert.Equal((1L, 0L, 1L), (summary.Labels, summary.Joined, summary.PendingLabels));
        Assert.Equal(0L, b.RemoteJoins);
    }

    [Fact]
    public async Task FlushAsync_SamePredictionOnTwoInstancesAtOnce_CountsItOnceAndOneDuplicate()
    {
        var time = new ManualTimeProvider();
        var (a, stateA) = await SinkAsync(time);
        var (b, stateB) = await SinkAsync(time);
        a.AddPrediction(Make.Prediction("r1"));
        b.AddPrediction(Make.Prediction("r1"));

        // Both batches in flight together: Redis orders them, one stores the prediction, the other sees it.
        await Task.WhenAll(stateA.FlushAsync(), stateB.FlushAsync());
        b.AddLabel(Make.Label("r1"));
        await stateB.FlushAsync();

        SummaryDocument sa = a.Snapshot(), sb = b.Snapshot();
        Assert.Equal(1L, sa.Predictions + sb.Predictions);
        Assert.Equal(1L, sa.DuplicatePredictions + sb.DuplicatePredictions);
        Assert.Equal(1L, sa.Joined + sb.Joined);
        Assert.Equal(1L, sb.Labels);
    }

    [Fact]
    public async Task Expire_PredictionNeverLabelled_CountsItUnjoinedOnceAndALaterLabelElsewhereDoesNotJoinIt()
    {
        var time = new ManualTimeProvider();
        var (a, stateA) = await SinkAsync(time);
        var (b, stateB) = await SinkAsync(time);
        a.AddPrediction(Make.Prediction("r1"));
        await stateA.FlushAsync();

        time.Advance(TimeSpan.FromSeconds(601));
        Assert.Equal(new ExpiryResult(1, 0, 0), a.Expire());
        Assert.Equal(1L, a.Snapshot().PendingPredictions);
        await stateA.FlushAsync();
        Assert.Equal(new ExpiryResult(0, 0, 1), a.Expire());
        Assert.Equal((0L, 1L), (a.Snapshot().PendingPredictions, a.UnjoinedPredictions));

        // Within the key's TTL margin the label comes to B: the prediction was given up, so the label waits.
        b.AddLabel(Make.Label("r1"));
        await stateB.FlushAsync();
        Assert.Equal((0L, 1L), (b.Snapshot().Joined, b.Snapshot().PendingLabels));
        time.Advance(TimeSpan.FromSeconds(601));
        b.Expire();
        await stateB.FlushAsync();
        Assert.Equal(new ExpiryResult(0, 1, 0), b.Expire());
        Assert.Equal((0L, 1L), (b.Snapshot().PendingLabels, b.Snapshot().UnmatchedLabels));
    }

    [Fact]
    public async Task FlushAsync_RedisStopped_JoinsInMemoryAndCountsTheFailure()
    {
        var (joiner, state, connection) = await _redis.JoinerAsync(new ManualTimeProvider());
        joiner.AddPrediction(Make.Prediction("r1"));
        await state.FlushAsync();
        Assert.Equal(JoinOutcome.Deferred, joiner.AddPrediction(Make.Prediction("r2")));

        _redis.StopServer(); // the Redis outage: the server is killed
        // Queued before the outage: Redis does not answer, memory decides.
        await state.FlushAsync();
        Assert.Equal((1L, 2L), (state.FailedOperations, joiner.Snapshot().PendingPredictions));
        for (var i = 0; i < 300 && connection.IsConnected; i++)
        {
            await Task.Delay(100);
        }

        Assert.False(connection.IsConnected);
        // Arriving while Redis is away: decided at once, in memory, each partner held here.
        Assert.Equal(JoinOutcome.Joined, joiner.AddLabel(Make.Label("r2", "setosa")));
        Assert.Equal(JoinOutcome.Joined, joiner.AddLabel(Make.Label("r1", "virginica")));
        Assert.Equal(JoinOutcome.Duplicate, joiner.AddPrediction(Make.Prediction("r2")));

        var summary = joiner.Snapshot();
        Assert.Equal((2L, 2L, 2L, 1L, 0L, 0L), (summary.Predictions, summary.Labels, summary.Joined, summary.DuplicatePredictions, summary.PendingPredictions, summary.PendingLabels));
        var arm = Assert.Single(Assert.Single(summary.Experiments).Arms);
        Assert.Equal((2L, 1L), (arm.Joined, arm.Correct));
        Assert.Equal((1L, 2L, 0), (state.FailedOperations, joiner.MemoryFallbacks, joiner.SharedBacklog));
    }

    [Fact]
    public async Task Create_JoinStateRedis_SendsInTheBackgroundAndMetersWhatRedisDecided()
    {
        await using var app = MetricsSinkApp.Create([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["MetricsSink:TrackingDir"] = Path.Combine(Path.GetTempPath(), "sink-join-" + Guid.NewGuid().ToString("N")),
            ["MetricsSink:Redis"] = _redis.Configuration,
            ["MetricsSink:JoinState"] = "Redis",
            ["MetricsSink:JoinKeyPrefix"] = _redis.Prefix,
        });
        var state = app.Services.GetRequiredService<RedisJoinState>();
        var joiner = app.Services.GetRequiredService<PredictionLabelJoiner>();
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        var measured = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this app's instruments: other tests' sinks may meter at the same time.
            if (ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (measured)
            {
                measured[instrument.Name] = measured.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();

        await state.StartAsync(CancellationToken.None);
        Assert.Equal(JoinOutcome.Deferred, joiner.AddPrediction(Make.Prediction("r1")));
        for (var i = 0; i < 300 && joiner.SharedBacklog > 0; i++)
        {
            await Task.Delay(100);
        }

        // Sent by the service's own loop: nothing here flushed.
        Assert.Equal((0, 1L), (joiner.SharedBacklog, joiner.Snapshot().PendingPredictions));
        Assert.Equal(JoinOutcome.Deferred, joiner.AddLabel(Make.Label("r1")));
        Assert.Equal(JoinOutcome.Deferred, joiner.AddPrediction(Make.Prediction("r2")));
        // Stopping sends what is still queued.
        await state.StopAsync(CancellationToken.None);
        listener.RecordObservableInstruments();

        Assert.Equal(0, joiner.SharedBacklog);
        Assert.True(await Database().HashExistsAsync(_redis.Prefix + "r2", "p:iris-ab\u001flogreg\u001f0"));
        Assert.Equal((2L, 1L, 1L), (joiner.Snapshot().Predictions, joiner.Snapshot().Labels, joiner.Snapshot().Joined));
        lock (measured)
        {
            Assert.Equal(2L, measured["mesh.metrics_sink.predictions"]);
            Assert.Equal(1L, measured["mesh.metrics_sink.labels"]);
            Assert.Equal(1L, measured["mesh.metrics_sink.joins"]);
            Assert.Equal(3L, measured["mesh.metrics_sink.join_state.operations"]);
            Assert.Equal(0L, measured["mesh.metrics_sink.join_state.failed_operations"]);
        }
    }

    [Theory]
    [InlineData("Memory", "", "RequestId", true)]
    [InlineData("Redis", "", "RequestId", false)]
    [InlineData("Redis", "127.0.0.1:1", "EntityTime", false)]
    [InlineData("Disk", "", "RequestId", false)]
    [InlineData("Redis", "127.0.0.1:1", "RequestId", false, "1")]
    public async Task Start_JoinStateSettings_RefusesABadCombinationNamingIt(string joinState, string redis, string joinBy, bool valid, string margin = "60")
    {
        var tracking = Path.Combine(Path.GetTempPath(), "sink-bad-" + Guid.NewGuid().ToString("N"));
        await using var app = MetricsSinkApp.Create([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["MetricsSink:TrackingDir"] = tracking,
            ["MetricsSink:JoinState"] = joinState,
            ["MetricsSink:Redis"] = redis,
            ["MetricsSink:JoinBy"] = joinBy,
            ["MetricsSink:JoinKeyTtlMarginSeconds"] = margin,
            ["MetricsSink:FlushIntervalMs"] = "1000",
        });

        var options = app.Services.GetRequiredService<IOptionsMonitor<MetricsSinkOptions>>();
        if (valid)
        {
            Assert.Equal(joinState, options.CurrentValue.JoinState);
            Assert.Null(app.Services.GetService<RedisJoinState>());
            return;
        }

        var error = Assert.Throws<OptionsValidationException>(() => options.CurrentValue);
        Assert.Contains(margin == "60" ? "MetricsSink:JoinState" : "MetricsSink:JoinKeyTtlMarginSeconds (1)", string.Join(" ", error.Failures), StringComparison.Ordinal);
    }

    private IDatabase Database() => _admin.GetDatabase();

    private async Task<(PredictionLabelJoiner Joiner, RedisJoinState State)> SinkAsync(TimeProvider time, int windowSeconds = 600, int marginSeconds = 60)
    {
        var (joiner, state, _) = await _redis.JoinerAsync(time, windowSeconds, marginSeconds);
        return (joiner, state);
    }
}
