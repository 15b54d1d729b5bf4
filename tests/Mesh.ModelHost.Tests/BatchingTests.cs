using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Inference;
using Mesh.ModelHost.Tests.Onnx;
using static Mesh.ModelHost.Tests.InferRequests;

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
        using var listener = Listen(TestModels.Batched, (name, value) =>
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
    public async Task ModelInfer_QueueFull_ResourceExhaustedNamingTheSettingWhileTheWaitingRequestSucceeds()
    {
        // matmul-tiny-queue lets one request wait (up to 3 s, for more rows); once it waits, a second is refused.
        var waiting = 0;
        using var listener = Listen(TestModels.TinyQueue, (name, value) =>
        {
            if (name == "mesh.model_host.queue.waiting")
            {
                Volatile.Write(ref waiting, (int)value);
            }
        });
        var first = host.Client.ModelInferAsync(Raw(TestModels.TinyQueue, [1, 2, 3], 1, inputName: "x")).ResponseAsync;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Volatile.Read(ref waiting) == 0 && !first.IsCompleted && DateTime.UtcNow < deadline)
        {
            listener.RecordObservableInstruments();
            await Task.Delay(5);
        }

        var second = host.Client.ModelInferAsync(Raw(TestModels.TinyQueue, [4, 5, 6], 1, inputName: "x")).ResponseAsync;

        var outcomes = await Task.WhenAll(Outcome(first), Outcome(second));

        var refused = Assert.Single(outcomes, o => o.Error is not null).Error!;
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains(TestModels.TinyQueue, refused.Status.Detail);
        Assert.Contains("MaxQueueSize", refused.Status.Detail);
        Assert.Single(outcomes, o => o.Response is not null);
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

    private static async Task<(ModelInferResponse? Response, RpcException? Error)> Outcome(Task<ModelInferResponse> call)
    {
        try
        {
            return (await call, null);
        }
        catch (RpcException e)
        {
            return (null, e);
        }
    }

    private static MeterListener Listen(string model, Action<string, double> onMeasurement)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Mesh.ModelHost")
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
