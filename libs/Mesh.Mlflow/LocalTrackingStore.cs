using System.Globalization;

namespace Mesh.Mlflow;

/// <summary>
/// The tracking calls written to a local folder when no tracking server is configured, in the layout of
/// MLflow's own file store (<c>mlruns/&lt;experiment&gt;/&lt;run&gt;/{meta.yaml,metrics,params,tags}</c>), so
/// the files read as they are and <c>mlflow ui --backend-store-uri &lt;folder&gt;/mlruns</c> shows them.
/// A <c>README.txt</c> beside them says so. Thread-safe; one process per folder.
/// </summary>
public sealed class LocalTrackingStore : IMlflowTracking
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _root;
    private readonly TimeProvider _time;
    private bool _created;

    /// <summary>Uses <paramref name="folder"/> (created when missing), with <c>mlruns</c> inside it.</summary>
    public LocalTrackingStore(string folder, TimeProvider? time = null)
    {
        Folder = Path.GetFullPath(folder);
        _root = Path.Combine(Folder, "mlruns");
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The note beside <c>mlruns</c> saying what it holds and how to view it.</summary>
    public const string ReadmeFileName = "README.mlruns.txt";

    /// <summary>The folder holding <c>mlruns</c> and the README.</summary>
    public string Folder { get; }

    /// <inheritdoc />
    public string Destination => _root;

    /// <inheritdoc />
    public async Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureCreated();
            var ids = new List<long>();
            foreach (var dir in Directory.EnumerateDirectories(_root))
            {
                var id = Path.GetFileName(dir);
                if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    continue;
                }

                ids.Add(number);
                if (MlflowFileStore.ReadMeta(Path.Combine(dir, "meta.yaml")).TryGetValue("name", out var existing) && existing == name)
                {
                    return id;
                }
            }

            var created = (ids.Count == 0 ? 1 : ids.Max() + 1).ToString(CultureInfo.InvariantCulture);
            WriteExperimentMeta(created, name);
            return created;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<MlflowRunInfo> CreateRunAsync(string experimentId, string runName, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureCreated();
            var experiment = Path.Combine(_root, experimentId);
            if (!Directory.Exists(experiment))
            {
                throw new MlflowResourceNotFoundException($"No experiment with id={experimentId} in {_root}");
            }

            var info = new MlflowRunInfo
            {
                RunId = Guid.NewGuid().ToString("N"),
                ExperimentId = experimentId,
                RunName = runName,
                Status = MlflowRunStatus.Running,
                StartTime = Now(),
            };
            var run = Path.Combine(experiment, info.RunId);
            foreach (var sub in new[] { "metrics", "params", "tags", "artifacts" })
            {
                Directory.CreateDirectory(Path.Combine(run, sub));
            }

            MlflowFileStore.WriteRunMeta(run, info);
            MlflowFileStore.WriteKeyValues(run, "tags", [new("mlflow.runName", runName), .. tags]);
            return info;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task UpdateRunAsync(string runId, string status, long? endTime, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureCreated();
            var run = MlflowFileStore.FindRun(_root, runId);
            var info = MlflowFileStore.ReadRunInfo(run);
            info.Status = status;
            info.EndTime = endTime ?? info.EndTime;
            MlflowFileStore.WriteRunMeta(run, info);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<MlflowRun> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureCreated();
            return MlflowFileStore.ReadRun(MlflowFileStore.FindRun(_root, runId));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>Filters support what the services use: <c>tags.&lt;key&gt; = '&lt;value&gt;'</c> and <c>attributes.run_name = '&lt;value&gt;'</c> joined by AND.</remarks>
    public async Task<MlflowRunPage> SearchRunsAsync(IReadOnlyList<string> experimentIds, string? filter, int maxResults, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        var conditions = LocalRunFilter.Parse(filter);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureCreated();
            var runs = new List<MlflowRun>();
            foreach (var experimentId in experimentIds)
            {
                var experiment = Path.Combine(_root, experimentId);
                if (!Directory.Exists(experiment))
                {
                    continue;
                }

                foreach (var dir in Directory.EnumerateDirectories(experiment).Order(StringComparer.Ordinal))
                {
                    if (File.Exists(Path.Combine(dir, "meta.yaml")))
                    {
                        var run = MlflowFileStore.ReadRun(dir);
                        if (conditions.All(c => c.Matches(run)))
                        {
                            runs.Add(run);
                        }
                    }
                }
            }

            var skip = int.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            var ordered = runs.OrderByDescending(r => r.Info.StartTime).ThenBy(r => r.Info.RunId, StringComparer.Ordinal).ToList();
            var page = ordered.Skip(skip).Take(maxResults).ToList();
            var next = skip + page.Count < ordered.Count ? (skip + page.Count).ToString(CultureInfo.InvariantCulture) : null;
            return new MlflowRunPage(page, next);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task LogBatchAsync(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowKeyValue> parameters, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureCreated();
            var run = MlflowFileStore.FindRun(_root, runId);
            MlflowFileStore.WriteParams(run, parameters);
            MlflowFileStore.WriteKeyValues(run, "tags", tags);
            MlflowFileStore.AppendMetrics(run, metrics);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public Task SetTagAsync(string runId, string key, string value, CancellationToken cancellationToken = default) =>
        LogBatchAsync(runId, [], [], [new(key, value)], cancellationToken);

    /// <inheritdoc />
    public async Task<MlflowMetricPage> GetMetricHistoryAsync(string runId, string metricKey, int maxResults = MlflowLimits.MaxMetricHistoryResults, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureCreated();
            var history = MlflowFileStore.ReadMetric(Path.Combine(MlflowFileStore.FindRun(_root, runId), "metrics", MlflowFileStore.SafeKey(metricKey)), metricKey);
            var skip = int.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            var page = history.Skip(skip).Take(maxResults).ToList();
            return new MlflowMetricPage(page, skip + page.Count < history.Count ? (skip + page.Count).ToString(CultureInfo.InvariantCulture) : null);
        }
        finally
        {
            _gate.Release();
        }
    }

    // Created on first use, not in the constructor: a folder that cannot be written yet is an error of the
    // call (which a writer retries), never of starting the service.
    private void EnsureCreated()
    {
        if (_created)
        {
            return;
        }

        Directory.CreateDirectory(_root);
        File.WriteAllText(Path.Combine(Folder, ReadmeFileName), Readme, MlflowFileStore.Utf8);
        if (!Directory.Exists(Path.Combine(_root, "0")))
        {
            // MLflow's file store expects the Default experiment; without it 'mlflow ui' creates one itself, racing us.
            WriteExperimentMeta("0", "Default");
        }

        _created = true;
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private void WriteExperimentMeta(string id, string name)
    {
        var dir = Path.Combine(_root, id);
        Directory.CreateDirectory(dir);
        var now = Now();
        MlflowFileStore.WriteAtomically(Path.Combine(dir, "meta.yaml"), $"""
            artifact_location: {MlflowFileStore.Yaml(new Uri(dir).AbsoluteUri)}
            creation_time: {now}
            experiment_id: '{id}'
            last_update_time: {now}
            lifecycle_stage: active
            name: {MlflowFileStore.Yaml(name)}

            """);
    }

    private const string Readme = """
        Mesh experiment tracking (local folder)
        =======================================

        No MLflow tracking server was configured (MLFLOW_TRACKING_URI is not set), so the runs MLflow would
        have received are written here instead, in the layout of MLflow's own file store:

          mlruns/<experiment id>/meta.yaml                     the experiment (its name is inside)
          mlruns/<experiment id>/<run id>/meta.yaml            the run: name, status, start and end time
          mlruns/<experiment id>/<run id>/params/<key>         one file per param, holding its value
          mlruns/<experiment id>/<run id>/tags/<key>           one file per tag
          mlruns/<experiment id>/<run id>/metrics/<key>        one line per value: <unix ms> <value> <step>

        How to view it:
          - the files:   grep -r . mlruns/*/*/params ; tail mlruns/*/*/metrics/accuracy
          - MLflow's UI: mlflow ui --backend-store-uri ./mlruns   (pip install mlflow; then http://127.0.0.1:5000)
          - or set MLFLOW_TRACKING_URI to a tracking server and restart: the same runs go there.
        """;
}
