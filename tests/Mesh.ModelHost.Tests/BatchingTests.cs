namespace Mesh.ModelHost.Tests;

/// <summary>Dynamic batching: concurrent requests share one ONNX Runtime call, each caller gets its own rows back.</summary>
[Collection(ModelHostCollection.Name)]
public sealed class BatchingTests(ModelHostFixture host)
{
    [Fact]
    public async Task ModelInfer_EightConcurrentRequests_CoalescedAndEachGetsItsOwnRows()
    {
        // matmul-batched waits up to 5 s for 16 rows: 8 requests of 2 rows fill one batch, which then runs at once.
        var batchSizes = new ConcurrentBag<long>();
        var queueWaits = 0;
        using var listener = Listen(host.MeterFactory, TestModels.Batched, (name, value) =>
        {
            if (name == "mesh.model_host.batch.size")
            {
                batchSizes.Add((long)value);
            }
            else if (name == "mesh.model_host.queue.duration")
            {
                Interlocked.Increment(ref queueWaits);
            }
        });
        var requests = Enumerable.Range(0, 8)
            .Select(i => new float[] { i, 1, -i, 0.5f * i, 2, i - 3 })
            .ToArray();

        var responses = await Task.WhenAll(requests.Select(rows =>
            host.Client.ModelInferAsync(Raw(TestModels.Batched, rows, 2, id: string.Join(",", rows), inputName: "x")).ResponseAsync));

        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(string.Join(",", requests[i]), responses[i].Id);
            var (tensor, bytes) = Output(responses[i], "probs");
            Assert.Equal([2L, 2L], tensor.Shape);
            var probabilities = DecodeFp32(bytes);
            for (var row = 0; row < 2; row++)
            {
                var expected = Expected(requests[i].AsSpan(row * 3, 3).ToArray());
                Assert.Equal(expected[0], probabilities[row * 2], 1e-5);
                Assert.Equal(expected[1], probabilities[row * 2 + 1], 1e-5);
            }
        }

        Assert.Equal(16, batchSizes.Sum());
        Assert.True(batchSizes.Max() > 2, $"no two requests shared a run: batch sizes {string.Join(", ", batchSizes)}");
        Assert.Equal(8, Volatile.Read(ref queueWaits));
    }

    [Fact]
    public async Task ModelInfer_SixtyFourConcurrentSingleRowCallersOnTwoWorkers_FullBatchesAndEachGetsItsOwnRow()
    {
        // matmul-two-workers runs up to two batches of 16 rows at once and waits up to 5 s for a batch to
        // fill: 64 single-row callers make four full batches, whichever worker runs each.
        var batchSizes = new ConcurrentBag<long>();
        using var listener = Listen(host.MeterFactory, TestModels.TwoWorkers, (name, value) =>
        {
            if (name == "mesh.model_host.batch.size")
            {
                batchSizes.Add((long)value);
            }
        });
        var rows = Enumerable.Range(0, 64).Select(i => new float[] { i, -0.5f * i, 1 + (i % 7) }).ToArray();

        var responses = await Task.WhenAll(rows.Select((row, i) =>
            host.Client.ModelInferAsync(Raw(TestModels.TwoWorkers, row, 1, id: i.ToString(System.Globalization.CultureInfo.InvariantCulture), inputName: "x")).ResponseAsync));

        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), responses[i].Id);
            var (tensor, bytes) = Output(responses[i], "probs");
            Assert.Equal([1L, 2L], tensor.Shape);
            var probabilities = DecodeFp32(bytes);
            var expected = Expected(rows[i]);
            Assert.Equal(expected[0], probabilities[0], 1e-5);
            Assert.Equal(expected[1], probabilities[1], 1e-5);
        }

        Assert.Equal(64, batchSizes.Sum());
        Assert.All(batchSizes, size => Assert.Equal(16, size));
    }

    [Fact]
    public async Task ModelInfer_SingleCallerThenASecond_FirstWaitsTheQueueDelayAndBothShareOneRun()
    {
        // matmul-delayed waits 300 ms for more rows, on a clock the test moves. A lone request is not run
        // until the delay has passed on that clock; a second request sent while the first waits joins its batch.
        const string model = "matmul-delayed-manual-clock";
        var batchSizes = new ConcurrentBag<long>();
        var queueWaits = new ConcurrentBag<double>();
        using var served = new ClockedModel(host.Repository, TestModels.Delayed, model);
        using var listener = Listen(served.MeterFactory, model, (name, value) =>
        {
            switch (name)
            {
                case "mesh.model_host.batch.size":
                    batchSizes.Add((long)value);
                    break;
                case "mesh.model_host.queue.duration":
                    queueWaits.Add(value);
                    break;
            }
        });
        var clock = served.Clock;

        var alone = served.InferAsync("alone", [1, 2, 3], 1);
        await clock.WaitForTimersCreatedAsync(1).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(alone.IsCompleted, "a lone request ran before its queue delay passed");
        clock.Advance(TimeSpan.FromMilliseconds(300));
        await alone;

        var lone = Assert.Single(queueWaits);
        Assert.True(lone >= 0.3, $"a lone request waited {lone:0.000} s for its batch; the queue delay is 0.3 s");
        Assert.Equal([1L], batchSizes);

        batchSizes.Clear();
        var first = served.InferAsync("first", [1, 2, 3], 1);
        await clock.WaitForTimersCreatedAsync(2).WaitAsync(TimeSpan.FromSeconds(60));
        var second = served.InferAsync("second", [4, 5, 6, 7, 8, 9], 2);
        clock.Advance(TimeSpan.FromMilliseconds(300));
        var responses = await Task.WhenAll(first, second);

        Assert.Equal("first", responses[0].Id);
        Assert.Equal([1L, 2L], responses[0].Outputs.Single(o => o.Name == "probs").Shape);
        Assert.Equal("second", responses[1].Id);
        Assert.Equal([2L, 2L], responses[1].Outputs.Single(o => o.Name == "probs").Shape);
        var probabilities = MemoryMarshal.Cast<byte, float>(responses[1].Outputs.Single(o => o.Name == "probs").Data.AsSpan()).ToArray();
        Assert.Equal(Expected([7, 8, 9])[1], probabilities[3], 1e-5);
        Assert.Equal([3L], batchSizes);
    }

    [Fact]
    public async Task ModelReady_BatchingSettingOutOfRange_ModelFailsToLoadNamingTheSetting()
    {
        var ready = await host.Client.ModelReadyAsync(new ModelReadyRequest { Name = TestModels.BadBatching, Version = "1" });
        var error = await Assert.ThrowsAsync<RpcException>(() => host.Client.ModelInferAsync(Raw(TestModels.BadBatching, [1, 2, 3], 1, inputName: "x")).ResponseAsync);

        Assert.False(ready.Ready);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("maxConcurrentBatches", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_QueueFull_ResourceExhaustedNamingTheSettingWhileTheWaitingRequestSucceeds()
    {
        // matmul-tiny-queue lets one request wait (3 s on a clock the test moves, for more rows); once it
        // waits, a second is refused.
        using var served = new ClockedModel(host.Repository, TestModels.TinyQueue, TestModels.TinyQueue + "-manual-clock");
        var first = served.InferAsync("first", [1, 2, 3], 1);
        await served.Clock.WaitForTimersCreatedAsync(1).WaitAsync(TimeSpan.FromSeconds(60));

        var second = served.InferAsync("second", [4, 5, 6], 1);
        served.Clock.Advance(TimeSpan.FromSeconds(3));
        var outcomes = await Task.WhenAll(Outcome(first), Outcome(second));

        var refused = Assert.Single(outcomes, o => o.Error is not null).Error!;
        Assert.Equal(StatusCode.ResourceExhausted, refused.Code);
        Assert.Contains(TestModels.TinyQueue, refused.Message);
        Assert.Contains("MaxQueueSize", refused.Message);
        Assert.Single(outcomes, o => o.Result is not null);
    }

    [Fact]
    public async Task Metrics_LoadedModel_ErrorSeriesPresentAtZeroBeforeAnyFailure()
    {
        using var http = new HttpClient { BaseAddress = host.HttpUri };

        // No test makes this model refuse a call for a full queue: the series is there from the load, at 0. The
        // exporter may answer from its short response cache, so a few scrapes are allowed before it counts as missing.
        string? line = null;
        var text = "";
        for (var scrape = 0; scrape < 20 && line is null; scrape++)
        {
            await Task.Delay(scrape == 0 ? 0 : 250);
            text = await http.GetStringAsync("/metrics");
            line = text.Split('\n').FirstOrDefault(l => l.StartsWith("mesh_model_host_errors_total", StringComparison.Ordinal) &&
                l.Contains($"model=\"{TestModels.MatMulSoftmax}\"") && l.Contains("status=\"ResourceExhausted\""));
        }

        Assert.True(line is not null, "no ResourceExhausted series for the model; its error series:\n" + string.Join("\n", text.Split('\n').Where(l => l.StartsWith("mesh_model_host_errors_total", StringComparison.Ordinal))));
        Assert.Equal("0", line[(line.IndexOf('}') + 2)..].Split(' ')[0]);
    }

    [Fact]
    public async Task Metrics_AfterInference_PrometheusShowsPerModelRequestsBatchSizeAndLatencies()
    {
        await host.Client.ModelInferAsync(Raw(TestModels.MatMulSoftmax, [1, 2, 3, 4, 5, 6], 2, inputName: "x"));
        await Assert.ThrowsAsync<RpcException>(() => host.Client.ModelInferAsync(Raw(TestModels.MatMulSoftmax, [1, 2], 1, inputName: "x")).ResponseAsync);
        using var http = new HttpClient { BaseAddress = host.HttpUri };

        var text = await http.GetStringAsync("/metrics");

        var lines = text.Split('\n').Where(l => l.Contains($"model=\"{TestModels.MatMulSoftmax}\"")).ToList();
        Assert.Contains(lines, l => l.StartsWith("mesh_model_host_requests_total", StringComparison.Ordinal) && l.Contains("status=\"OK\""));
        Assert.Contains(lines, l => l.StartsWith("mesh_model_host_errors_total", StringComparison.Ordinal) && l.Contains("status=\"InvalidArgument\""));
        Assert.Contains(lines, l => l.StartsWith("mesh_model_host_batch_size", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("mesh_model_host_inference_duration_seconds", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("mesh_model_host_queue_duration_seconds", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("mesh_model_host_queue_waiting", StringComparison.Ordinal));
    }

    private static double[] Expected(float[] row)
    {
        var weightsByClass = new float[2, 3];
        for (var f = 0; f < 3; f++)
        {
            for (var c = 0; c < 2; c++)
            {
                weightsByClass[c, f] = TestModels.MatMulWeights[f, c];
            }
        }

        return TestModels.Softmax(weightsByClass, TestModels.MatMulBias, row);
    }

    private static async Task<(InferenceResult? Result, InferenceException? Error)> Outcome(Task<InferenceResult> call)
    {
        try
        {
            return (await call, null);
        }
        catch (InferenceException e)
        {
            return (null, e);
        }
    }

    // Only the meter of the factory given (the fixture's host, or a clocked model's own): other hosts in the process
    // have meters of the same name. The model tag keeps apart the tests that share the fixture's host.
    private static MeterListener Listen(IMeterFactory factory, string model, Action<string, double> onMeasurement)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Mesh.ModelHost" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => Measure(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, state) => Measure(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => Measure(instrument, value, tags));
        listener.Start();
        return listener;

        void Measure(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "model" && Equals(tag.Value, model))
                {
                    onMeasurement(instrument.Name, value);
                    return;
                }
            }
        }
    }
}
