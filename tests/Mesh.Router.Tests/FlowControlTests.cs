namespace Mesh.Router.Tests;

/// <summary>Pausing at the in-flight limit and rate limiting: records wait, none is dropped.</summary>
public sealed class FlowControlTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Sums a router counter for one experiment, of this test's router only: tests run in parallel, and another
    /// router in the process has a meter of the same name (its IMeterFactory keeps them apart; the tag, experiments).
    /// </summary>
    private sealed class CounterProbe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _totals = new();

        public CounterProbe(string experiment, IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Mesh.Router" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "experiment" && (string?)tag.Value == experiment)
                    {
                        _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value);
                    }
                }
            });
            _listener.Start();
        }

        public long Total(string instrument) => _totals.GetValueOrDefault(instrument);

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task Router_ArmAtItsInFlightLimit_PausesThenResumesWithEveryRecordPredicted()
    {
        const int Count = 200;
        var experiment = "paused-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, FakeModelHost.GatedModel, arm: "only", timeoutMs: 120000),
            new Dictionary<string, string?>
            {
                ["Router:Batching:MaxInFlightBatches"] = "1",
                ["Router:Batching:MaxBatchSize"] = "8",
                ["Router:Backpressure:PauseAfterMs"] = "200",
            });
        using var probe = new CounterProbe(experiment, router.App.Services.GetRequiredService<IMeterFactory>());
        router.Produce(RouterTestHost.Records("paused", Count, 20));

        // The one batch hangs in the host; the consume thread must pause rather than take in more.
        var deadline = DateTime.UtcNow + s_patience;
        while (probe.Total("mesh.router.pauses") == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(probe.Total("mesh.router.pauses") > 0, "the router never paused");
        Assert.Empty(router.ReadPredictions(1, TimeSpan.FromMilliseconds(500)));

        modelHost.ReleaseGate();
        var predictions = router.ReadPredictions(Count, s_patience);

        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"paused-{i}").Order(), predictions.Select(p => p.RequestId).Order());
        Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Router_BatchDeadlineThatNeverPasses_RecordsOnHandAreSentWhenTheArmIsIdleUnlessSwitchedOff(bool closeWhenIdle)
    {
        const int Count = 5;
        var experiment = "idle-" + Guid.NewGuid().ToString("N")[..8];
        // The router's clock stands still: no batch deadline passes unless the test moves it.
        var time = new FakeTimeProvider();
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm(experiment, modelHost.Endpoint, "model-only"),
            new Dictionary<string, string?> { ["Router:Batching:CloseWhenIdle"] = closeWhenIdle ? "true" : "false" },
            time: time);
        router.Produce(RouterTestHost.Records("idle", Count, 5));

        using var ticking = new CancellationTokenSource();
        var ticker = Task.CompletedTask;
        if (!closeWhenIdle)
        {
            // Held for the deadline alone: nothing comes back while the clock stands still, and everything once it moves.
            Assert.Empty(router.ReadPredictions(1, TimeSpan.FromSeconds(5)));
            ticker = Task.Run(async () =>
            {
                while (!ticking.IsCancellationRequested)
                {
                    time.Advance(TimeSpan.FromMilliseconds(10));
                    await Task.Delay(20);
                }
            });
        }

        // Five records never fill a batch of 64: with the clock still, only the idle close sends them.
        var predictions = router.ReadPredictions(Count, s_patience);
        await ticking.CancelAsync();
        await ticker;
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"idle-{i}").Order(), predictions.Select(p => p.RequestId).Order());
    }

    [Fact]
    public async Task Router_ExperimentOverItsRateLimit_RecordsWaitAndAllArePredicted()
    {
        const int Count = 60;
        var experiment = "limited-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: {experiment}
                strategy: ab
                rateLimit:
                  recordsPerSecond: 100
                  burst: 10
                arms:
                  - name: only
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-only
            """);
        using var probe = new CounterProbe(experiment, router.App.Services.GetRequiredService<IMeterFactory>());
        router.Produce(RouterTestHost.Records("limited", Count, 20));

        var predictions = router.ReadPredictions(Count, s_patience);

        Assert.Equal(Count, predictions.Select(p => p.RequestId).Distinct().Count());
        // How long the limit holds records back is a property of the token bucket, checked on a fake clock in
        // ResilienceTests.TokenBucket_SixtyRecordsPastABurstOfTen_WaitAtLeastHalfASecond; here: records did wait, none was lost.
        Assert.True(probe.Total("mesh.router.rate_limited") > 0);
        Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
    }
}
