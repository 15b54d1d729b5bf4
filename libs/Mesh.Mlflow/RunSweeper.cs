using System.Globalization;

namespace Mesh.Mlflow;

/// <summary>
/// Ends KILLED the runs a <see cref="TrackingWriter"/> start that died left RUNNING. Several writers may share an
/// experiment (a sink scaled out to two pods), so another start's RUNNING run is only taken for abandoned when its
/// heartbeat is older than <see cref="TrackingWriterOptions.StaleAfter"/>, when it names this writer's own
/// <see cref="TrackingWriterOptions.InstanceId"/> (its earlier life), or when it has no heartbeat at all (a writer
/// from before heartbeats, which never renews one).
/// </summary>
internal sealed class RunSweeper(IMlflowTracking tracking, TrackingWriterOptions options)
{
    // MLflow's search pages; a sweep reads at most this many pages of RUNNING runs per experiment.
    private const int PageSize = 200;
    private const int MaxPages = 50;

    /// <summary>Ends the abandoned runs of <paramref name="experimentId"/>; how many it ended.</summary>
    public async Task<int> SweepAsync(string experimentId, CancellationToken cancellationToken)
    {
        var now = options.Time.GetUtcNow();
        var left = new List<string>();
        string? page = null;
        for (var i = 0; i < MaxPages; i++)
        {
            var runs = await tracking.SearchRunsAsync([experimentId], $"attributes.status = '{MlflowRunStatus.Running}'", PageSize, page, cancellationToken).ConfigureAwait(false);
            left.AddRange(runs.Runs.Where(r => IsAbandoned(r, now)).Select(r => r.Info.RunId));
            page = runs.NextPageToken;
            if (page is null)
            {
                break;
            }
        }

        var end = now.ToUnixTimeMilliseconds();
        foreach (var runId in left)
        {
            await tracking.UpdateRunAsync(runId, MlflowRunStatus.Killed, end, cancellationToken).ConfigureAwait(false);
        }

        return left.Count;
    }

    /// <summary>Whether a run is one a dead writer start left: of this writer's kind, RUNNING, another start's, and no longer kept alive.</summary>
    public bool IsAbandoned(MlflowRun run, DateTimeOffset now)
    {
        if (run.Info.Status != MlflowRunStatus.Running || run.Tag(TrackingWriter.RunKeyTag) is null
            || run.Tag(TrackingWriter.StartIdTag) is not { } start || start == options.StartId)
        {
            return false;
        }

        if (options.InstanceId is { } instance && run.Tag(TrackingWriter.InstanceIdTag) == instance)
        {
            return true;
        }

        return !long.TryParse(run.Tag(TrackingWriter.HeartbeatTag), NumberStyles.Integer, CultureInfo.InvariantCulture, out var beat)
            || now.ToUnixTimeMilliseconds() - beat > (long)options.StaleAfter.TotalMilliseconds;
    }
}
