namespace Mesh.Mlflow.Tests;

/// <summary>The background writer: batching per run, waiting out an MLflow outage, a bounded buffer.</summary>
public sealed class TrackingWriterTests() : FakeMlflowTests<FakeMlflowTrackingServer>(FakeMlflowTrackingServer.StartAsync)
{
    [Fact]
    public async Task TryEnqueue_MlflowDownThenBack_RecordsWaitAndAreAllWritten()
    {
        Server.Down = true;
        var errors = 0;
        await using var writer = new TrackingWriter(Tracking(), new TrackingWriterOptions
        {
            RetryDelay = TimeSpan.FromMilliseconds(5),
            MaxRetryDelay = TimeSpan.FromMilliseconds(20),
            OnError = (_, retry) => { Assert.True(retry); Interlocked.Increment(ref errors); },
        });

        for (var step = 0; step < 10; step++)
        {
            Assert.True(writer.TryEnqueue(Record("arm-a", step)));
        }

        // Wait until the writer has seen the outage, so the test proves the records survived it.
        while (Volatile.Read(ref errors) < 2)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, writer.Written);
        Server.Down = false;
        await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        Assert.Equal(10, writer.Written);
        Assert.Equal(0, writer.Dropped);
        var run = Server.RunByName("iris-ab/arm-a")!;
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), run.Metrics.Where(m => m.Key == "accuracy").Select(m => m.Step));
        Assert.Equal("iris-logreg", run.Params["model_name"]);
        Assert.Equal("iris-ab/arm-a/1", run.Tags[TrackingWriter.RunKeyTag]);
    }

    [Fact]
    public async Task TryEnqueue_CreateRunAnswerLost_OneRunHoldsEveryRecord()
    {
        // The server creates the run but answers after the client has given up (and would have sent it again).
        Server.CreateRunAnswerDelay = TimeSpan.FromSeconds(2);
        var tracking = new MlflowTrackingClient(ClientOf(o =>
            (o.MaxRetries, o.BackoffFactor, o.RequestTimeout) = (3, 0.01, TimeSpan.FromMilliseconds(300))));
        var errors = 0;
        await using var writer = new TrackingWriter(tracking, new TrackingWriterOptions
        {
            RetryDelay = TimeSpan.FromMilliseconds(5),
            MaxRetryDelay = TimeSpan.FromMilliseconds(20),
            OnError = (_, _) =>
            {
                Interlocked.Increment(ref errors);
                Server.CreateRunAnswerDelay = TimeSpan.Zero;
            },
        });

        for (var step = 0; step < 5; step++)
        {
            Assert.True(writer.TryEnqueue(Record("arm-a", step)));
        }

        await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        Assert.True(Volatile.Read(ref errors) >= 1, "the first runs/create should have gone unanswered");
        var run = Assert.Single(Server.RunsNamed("iris-ab/arm-a"));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), run.Metrics.Where(m => m.Key == "accuracy").Select(m => m.Step));
    }

    [Fact]
    public async Task TryEnqueue_BufferFull_DropsAndCountsWithoutBlocking()
    {
        Server.Down = true;
        long overflowSeen = 0;
        await using var writer = new TrackingWriter(Tracking(), new TrackingWriterOptions
        {
            Capacity = 3,
            MaxRecordsPerRound = 1,
            RetryDelay = TimeSpan.FromMilliseconds(5),
            MaxRetryDelay = TimeSpan.FromMilliseconds(10),
            OnOverflow = total => Interlocked.CompareExchange(ref overflowSeen, total, 0),
        });

        var accepted = Enumerable.Range(0, 20).Count(i => writer.TryEnqueue(Record("arm-a", i)));

        // The buffer holds 3 and the writer's round at most 1 more.
        Assert.InRange(accepted, 3, 4);
        Assert.Equal(20 - accepted, writer.Dropped);
        Assert.Equal(1, Interlocked.Read(ref overflowSeen));
        Server.Down = false;
        await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        Assert.Equal(accepted, writer.Written);
        Assert.Equal(accepted, Server.RunByName("iris-ab/arm-a")!.Metrics.Count(m => m.Key == "accuracy"));
    }

    [Fact]
    public async Task TryEnqueue_RunKeyAlreadyInMlflow_ContinuesThatRunAfterARestart()
    {
        await using (var first = new TrackingWriter(Tracking()))
        {
            first.TryEnqueue(Record("arm-a", 0));
            await first.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        }

        await using (var second = new TrackingWriter(Tracking()))
        {
            second.TryEnqueue(Record("arm-a", 1));
            second.TryEnqueue(Record("arm-b", 1));
            await second.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        }

        Assert.Single(Server.Bodies("/api/2.0/mlflow/experiments/create"));
        Assert.Equal(2, Server.Bodies("/api/2.0/mlflow/runs/create").Count);
        Assert.Equal([0L, 1L], Server.RunByName("iris-ab/arm-a")!.Metrics.Select(m => m.Step));
    }

    [Fact]
    public async Task TryEnqueue_RunDeletedInMlflow_CreatesItAgainAndWrites()
    {
        await using var writer = new TrackingWriter(Tracking(), new TrackingWriterOptions { RetryDelay = TimeSpan.FromMilliseconds(5) });
        writer.TryEnqueue(Record("arm-a", 0));
        await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        Server.DeleteRun("iris-ab/arm-a");

        writer.TryEnqueue(Record("arm-a", 1));
        await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        Assert.Equal(2, writer.Written);
        Assert.Equal([1L], Server.RunByName("iris-ab/arm-a")!.Metrics.Select(m => m.Step));
        Assert.Equal("iris-logreg", Server.RunByName("iris-ab/arm-a")!.Params["model_name"]);
    }

    [Fact]
    public async Task TryEnqueue_RefusedAsMalformed_IsCountedFailedAndNotRetriedForever()
    {
        await using var writer = new TrackingWriter(Tracking());
        writer.TryEnqueue(Record("arm-a", 0));
        await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        // A new writer logs params again; a changed value is refused by MLflow.
        await using var other = new TrackingWriter(Tracking());
        other.TryEnqueue(Record("arm-a", 1) with { Params = [new("model_name", "something-else")] });

        await other.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        Assert.Equal(1, other.Failed);
        Assert.Equal(0, other.Written);
    }

    [Fact]
    public async Task CompleteAsync_WithStartId_EndsItsRunsFinishedWithEndTime()
    {
        var writer = new TrackingWriter(Tracking(), new TrackingWriterOptions { StartId = "start-1", Time = new FixedTime(1_764_260_000_000) });
        writer.TryEnqueue(Record("arm-a", 0));
        writer.TryEnqueue(Record("arm-b", 0));

        await writer.DisposeAsync();

        foreach (var arm in new[] { "arm-a", "arm-b" })
        {
            var run = Server.RunByName($"iris-ab/{arm}")!;
            Assert.Equal((MlflowRunStatus.Finished, 1_764_260_000_000L), (run.Status, run.EndTime));
            Assert.Equal("start-1", run.Tags[TrackingWriter.StartIdTag]);
        }
    }

    [Fact]
    public async Task TryEnqueue_EarlierStartDiedWithRunsRunning_EndsThemKilledAndWritesNewRuns()
    {
        var tracking = Tracking();
        var experiment = await tracking.GetOrCreateExperimentAsync("iris-ab");
        // What a start that died leaves: its run RUNNING; and a run of someone else's, which is not ours to end.
        var dead = await tracking.CreateRunAsync(experiment, "iris-ab/arm-a", [new(TrackingWriter.RunKeyTag, "iris-ab/arm-a/1@start-0"), new(TrackingWriter.StartIdTag, "start-0")]);
        var foreign = await tracking.CreateRunAsync(experiment, "someone else's", []);

        await using var writer = new TrackingWriter(tracking, new TrackingWriterOptions { StartId = "start-1", Time = new FixedTime(1_764_260_000_000) });
        writer.TryEnqueue(Record("arm-a", 0));
        await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        var runs = Server.RunsNamed("iris-ab/arm-a");
        var old = runs.Single(r => r.Id == dead.RunId);
        var current = runs.Single(r => r.Id != dead.RunId);
        Assert.Equal((MlflowRunStatus.Killed, 1_764_260_000_000L), (old.Status, old.EndTime));
        Assert.Empty(old.Metrics);
        Assert.Equal(MlflowRunStatus.Running, current.Status);
        Assert.Equal([0L], current.Metrics.Select(m => m.Step));
        Assert.Equal(MlflowRunStatus.Running, Server.RunByName("someone else's")!.Status);
        Assert.Equal(1, writer.RunsKilled);
        Assert.NotEqual(foreign.RunId, current.Id);
    }

    private sealed class FixedTime(long unixMilliseconds) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);
    }

    private static TrackingRecord Record(string arm, int step) => new(
        "iris-ab",
        $"iris-ab/{arm}/1",
        $"iris-ab/{arm}",
        [new("model_name", "iris-logreg"), new("model_version", "1")],
        [new("mesh.arm", arm)],
        [new("accuracy", 0.9, 1_764_250_000_000 + step, step)]);

}
