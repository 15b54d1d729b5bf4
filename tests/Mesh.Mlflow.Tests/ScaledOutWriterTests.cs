using System.Globalization;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Mlflow.Tests;

/// <summary>
/// Two writers on one experiment (a metrics sink scaled out to two pods), against the MLflow stand-in: a start ends
/// KILLED only the runs a dead start left (a stale heartbeat, or this instance's own earlier life), never a live
/// writer's, and a writer that stays up ends a dead one's runs once their heartbeat is stale.
/// </summary>
public sealed class ScaledOutWriterTests() : FakeMlflowTests<FakeMlflowTrackingServer>(FakeMlflowTrackingServer.StartAsync)
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_stale = TimeSpan.FromMinutes(5);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_764_260_000_000));

    [Fact]
    public async Task TryEnqueue_AnotherLiveWriterHasRunsRunning_LeavesThemRunningAndEachEndsItsOwn()
    {
        var a = Writer("start-a", "sink-a");
        a.TryEnqueue(Record("arm-a", 0));
        await Flush(a);
        var first = Assert.Single(Server.RunsNamed("iris-ab/arm-a"));

        var b = Writer("start-b", "sink-b");
        b.TryEnqueue(Record("arm-a", 0));
        await Flush(b);

        Assert.Equal(0, b.RunsKilled);
        Assert.Equal(MlflowRunStatus.Running, (await Tracking().GetRunAsync(first.Id)).Info.Status);
        await a.DisposeAsync();
        await b.DisposeAsync();
        var runs = Server.RunsNamed("iris-ab/arm-a");
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal(MlflowRunStatus.Finished, r.Status));
        Assert.Equal(["sink-a", "sink-b"], runs.Select(r => r.Tags[TrackingWriter.InstanceIdTag]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TryEnqueue_RunsOfOtherStarts_EndsKilledOnlyAStaleHeartbeatAndThisInstancesEarlierLife()
    {
        var tracking = Tracking();
        var experiment = await tracking.GetOrCreateExperimentAsync("iris-ab");
        var now = _time.GetUtcNow();
        var stale = await Seed(tracking, experiment, "stale", "start-0", "sink-x", now - s_stale - TimeSpan.FromSeconds(1));
        var ownEarlierLife = await Seed(tracking, experiment, "own", "start-1", "sink-a", now);
        var live = await Seed(tracking, experiment, "live", "start-2", "sink-b", now - s_stale + TimeSpan.FromSeconds(1));

        await using var writer = Writer("start-3", "sink-a");
        writer.TryEnqueue(Record("arm-a", 0));
        await Flush(writer);

        Assert.Equal(MlflowRunStatus.Killed, (await tracking.GetRunAsync(stale)).Info.Status);
        Assert.Equal(MlflowRunStatus.Killed, (await tracking.GetRunAsync(ownEarlierLife)).Info.Status);
        Assert.Equal(MlflowRunStatus.Running, (await tracking.GetRunAsync(live)).Info.Status);
        Assert.Equal(2, writer.RunsKilled);
    }

    [Fact]
    public async Task Heartbeat_AnotherWriterDiesWhileThisOneRuns_ItsRunIsEndedOnceStaleAndThisOnesIsKeptAlive()
    {
        var tracking = Tracking();
        var experiment = await tracking.GetOrCreateExperimentAsync("iris-ab");
        var died = await Seed(tracking, experiment, "died", "start-0", "sink-b", _time.GetUtcNow());
        await using var writer = Writer("start-1", "sink-a");
        writer.TryEnqueue(Record("arm-a", 0));
        await Flush(writer);
        var own = Assert.Single(Server.RunsNamed("iris-ab/arm-a")).Id;
        Assert.Equal(MlflowRunStatus.Running, (await tracking.GetRunAsync(died)).Info.Status);

        // Nothing more is written: only heartbeats keep this writer's idle run alive, one per interval.
        var beats = 0;
        while ((await tracking.GetRunAsync(died)).Info.Status == MlflowRunStatus.Running)
        {
            Assert.True(_time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(1_764_260_000_000) <= 2 * s_stale, "the dead writer's run outlived two sweeps");
            _time.Advance(s_interval);
            beats++;
            var expected = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            await Until(async () => (await tracking.GetRunAsync(own)).Tag(TrackingWriter.HeartbeatTag) == expected);
        }

        // Not before its heartbeat was older than the bound.
        Assert.True(beats > s_stale / s_interval, $"ended after {beats} intervals");
        Assert.Equal(MlflowRunStatus.Running, (await tracking.GetRunAsync(own)).Info.Status);
        Assert.Equal(1, writer.RunsKilled);
    }

    private static async Task<string> Seed(MlflowTrackingClient tracking, string experiment, string name, string start, string instance, DateTimeOffset heartbeat) =>
        (await tracking.CreateRunAsync(experiment, name,
        [
            new(TrackingWriter.RunKeyTag, $"iris-ab/{name}/1@{start}"),
            new(TrackingWriter.StartIdTag, start),
            new(TrackingWriter.InstanceIdTag, instance),
            new(TrackingWriter.HeartbeatTag, heartbeat.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
        ])).RunId;

    private static async Task Flush(TrackingWriter writer) => await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

    private static async Task Until(Func<Task<bool>> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!await condition())
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    private static TrackingRecord Record(string arm, int step) => new(
        "iris-ab",
        $"iris-ab/{arm}/1",
        $"iris-ab/{arm}",
        [new("model_name", "iris-logreg")],
        [new("mesh.arm", arm)],
        [new("accuracy", 0.9, 1_764_250_000_000 + step, step)]);

    private TrackingWriter Writer(string start, string instance) => new(Tracking(), new TrackingWriterOptions
    {
        StartId = start,
        InstanceId = instance,
        HeartbeatInterval = s_interval,
        StaleAfter = s_stale,
        Time = _time,
    });

}
