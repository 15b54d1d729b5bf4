using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mesh.Mlflow;

/// <summary>
/// The tracking calls written to a local folder when no tracking server is configured, in the layout of
/// MLflow's own file store (<c>mlruns/&lt;experiment&gt;/&lt;run&gt;/{meta.yaml,metrics,params,tags}</c>), so
/// the files read as they are and <c>mlflow ui --backend-store-uri &lt;folder&gt;/mlruns</c> shows them.
/// A <c>README.txt</c> beside them says so. Thread-safe; one process per folder.
/// </summary>
public sealed partial class LocalTrackingStore : IMlflowTracking
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);
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
                if (ReadMeta(Path.Combine(dir, "meta.yaml")).TryGetValue("name", out var existing) && existing == name)
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

            WriteRunMeta(run, info);
            WriteKeyValues(run, "tags", [new("mlflow.runName", runName), .. tags]);
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
            var run = FindRun(runId);
            var info = ReadRunInfo(run);
            info.Status = status;
            info.EndTime = endTime ?? info.EndTime;
            WriteRunMeta(run, info);
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
            return ReadRun(FindRun(runId));
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
        var conditions = ParseFilter(filter);
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
                        var run = ReadRun(dir);
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
            var run = FindRun(runId);
            foreach (var parameter in parameters)
            {
                var path = Path.Combine(run, "params", SafeKey(parameter.Key));
                // As on a server: a param once written cannot change.
                if (File.Exists(path) && File.ReadAllText(path) != parameter.Value)
                {
                    throw new MlflowInvalidParameterException(MlflowErrorCodes.InvalidParameterValue,
                        $"Changing param values is not allowed. Param with key='{parameter.Key}' was already logged with a different value.", null);
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, parameter.Value, s_utf8);
            }

            WriteKeyValues(run, "tags", tags);
            foreach (var group in metrics.GroupBy(m => m.Key, StringComparer.Ordinal))
            {
                var path = Path.Combine(run, "metrics", SafeKey(group.Key));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                var lines = new StringBuilder();
                foreach (var metric in group)
                {
                    lines.Append(CultureInfo.InvariantCulture, $"{metric.Timestamp} {metric.Value.ToString("R", CultureInfo.InvariantCulture)} {metric.Step}\n");
                }

                File.AppendAllText(path, lines.ToString(), s_utf8);
            }
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
            var history = ReadMetric(Path.Combine(FindRun(runId), "metrics", SafeKey(metricKey)), metricKey);
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
        File.WriteAllText(Path.Combine(Folder, ReadmeFileName), Readme, s_utf8);
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
        WriteAtomically(Path.Combine(dir, "meta.yaml"), $"""
            artifact_location: {Yaml(new Uri(dir).AbsoluteUri)}
            creation_time: {now}
            experiment_id: '{id}'
            last_update_time: {now}
            lifecycle_stage: active
            name: {Yaml(name)}

            """);
    }

    private static void WriteRunMeta(string run, MlflowRunInfo info)
    {
        // MLflow's file store keeps the status as the RunStatus enum number.
        var status = info.Status switch
        {
            MlflowRunStatus.Running => 1,
            MlflowRunStatus.Finished => 3,
            MlflowRunStatus.Failed => 4,
            MlflowRunStatus.Killed => 5,
            _ => 2,
        };
        WriteAtomically(Path.Combine(run, "meta.yaml"), $"""
            artifact_uri: {Yaml(new Uri(Path.Combine(run, "artifacts")).AbsoluteUri)}
            end_time: {(info.EndTime is { } end ? end.ToString(CultureInfo.InvariantCulture) : "null")}
            entry_point_name: ''
            experiment_id: '{info.ExperimentId}'
            lifecycle_stage: active
            run_id: {info.RunId}
            run_name: {Yaml(info.RunName ?? "")}
            run_uuid: {info.RunId}
            source_name: ''
            source_type: 4
            source_version: ''
            start_time: {info.StartTime ?? 0}
            status: {status}
            tags: []
            user_id: mesh

            """);
    }

    private static MlflowRunInfo ReadRunInfo(string run)
    {
        var meta = ReadMeta(Path.Combine(run, "meta.yaml"));
        return new MlflowRunInfo
        {
            RunId = meta.GetValueOrDefault("run_id", Path.GetFileName(run)),
            ExperimentId = meta.GetValueOrDefault("experiment_id", ""),
            RunName = meta.GetValueOrDefault("run_name"),
            Status = meta.GetValueOrDefault("status") switch
            {
                "1" => MlflowRunStatus.Running,
                "3" => MlflowRunStatus.Finished,
                "4" => MlflowRunStatus.Failed,
                "5" => MlflowRunStatus.Killed,
                _ => "SCHEDULED",
            },
            StartTime = long.TryParse(meta.GetValueOrDefault("start_time"), out var start) ? start : null,
            EndTime = long.TryParse(meta.GetValueOrDefault("end_time"), out var end) ? end : null,
        };
    }

    private static MlflowRun ReadRun(string run)
    {
        var data = new MlflowRunData
        {
            Params = ReadKeyValues(Path.Combine(run, "params")),
            Tags = ReadKeyValues(Path.Combine(run, "tags")),
            Metrics = [],
        };
        var metrics = Path.Combine(run, "metrics");
        if (Directory.Exists(metrics))
        {
            foreach (var file in Directory.EnumerateFiles(metrics, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var key = Path.GetRelativePath(metrics, file).Replace(Path.DirectorySeparatorChar, '/');
                if (ReadMetric(file, key) is { Count: > 0 } history)
                {
                    // As runs/get does: the latest value is the one with the highest step, then timestamp.
                    data.Metrics.Add(history.OrderBy(m => m.Step).ThenBy(m => m.Timestamp).Last());
                }
            }
        }

        return new MlflowRun { Info = ReadRunInfo(run), Data = data };
    }

    private static List<MlflowMetric> ReadMetric(string file, string key)
    {
        if (!File.Exists(file))
        {
            return [];
        }

        var history = new List<MlflowMetric>();
        foreach (var line in File.ReadAllLines(file))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2
                && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var timestamp)
                && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                var step = parts.Length > 2 && long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 0;
                history.Add(new MlflowMetric(key, value, timestamp, step));
            }
        }

        return history;
    }

    private static List<MlflowKeyValue> ReadKeyValues(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(f => new MlflowKeyValue(Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(f)))
            .ToList();
    }

    private static void WriteKeyValues(string run, string kind, IEnumerable<MlflowKeyValue> values)
    {
        foreach (var value in values)
        {
            var path = Path.Combine(run, kind, SafeKey(value.Key));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WriteAtomically(path, value.Value);
        }
    }

    private string FindRun(string runId)
    {
        if (runId.Length == 0 || runId.Contains('/') || runId.Contains('\\') || runId.Contains(".."))
        {
            throw new MlflowInvalidParameterException(MlflowErrorCodes.InvalidParameterValue, $"'{runId}' is not a run id", null);
        }

        foreach (var experiment in Directory.EnumerateDirectories(_root))
        {
            var run = Path.Combine(experiment, runId);
            if (File.Exists(Path.Combine(run, "meta.yaml")))
            {
                return run;
            }
        }

        throw new MlflowResourceNotFoundException($"Run '{runId}' not found in {_root}");
    }

    // Keys may hold '/', as in MLflow's file store (a sub-folder); nothing may climb out of the run.
    private static string SafeKey(string key)
    {
        var parts = key.Split('/');
        if (key.Length == 0 || parts.Any(p => p is "" or "." or "..") || key.Contains('\\'))
        {
            throw new MlflowInvalidParameterException(MlflowErrorCodes.InvalidParameterValue, $"Invalid key '{key}'", null);
        }

        return Path.Combine(parts);
    }

    private static Dictionary<string, string> ReadMeta(string path)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return meta;
        }

        foreach (var line in File.ReadAllLines(path))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                meta[line[..colon].Trim()] = Unyaml(line[(colon + 1)..].Trim());
            }
        }

        return meta;
    }

    private static string Yaml(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Unyaml(string value) =>
        value.Length >= 2 && value[0] == '\'' && value[^1] == '\'' ? value[1..^1].Replace("''", "'", StringComparison.Ordinal) : value;

    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text, s_utf8);
        File.Move(temporary, path, overwrite: true);
    }

    private static List<Condition> ParseFilter(string? filter)
    {
        var conditions = new List<Condition>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return conditions;
        }

        foreach (var clause in AndSplitter().Split(filter))
        {
            var match = ClausePattern().Match(clause.Trim());
            if (!match.Success)
            {
                throw new MlflowInvalidParameterException(MlflowErrorCodes.InvalidParameterValue,
                    $"The local tracking folder supports only tags.<key> = '<value>' and attributes.run_name = '<value>' joined by AND; got '{clause.Trim()}'", null);
            }

            var key = match.Groups["key"].Value.Trim('`', '"');
            var value = match.Groups["value"].Value.Replace("''", "'", StringComparison.Ordinal);
            conditions.Add(match.Groups["kind"].Value == "tags" ? new Condition(key, value, IsTag: true) : new Condition(key, value, IsTag: false));
        }

        return conditions;
    }

    private sealed record Condition(string Key, string Value, bool IsTag)
    {
        public bool Matches(MlflowRun run) => IsTag
            ? run.Tag(Key) == Value
            : Key == "run_name" && run.Info.RunName == Value;
    }

    [GeneratedRegex(@"\s+AND\s+", RegexOptions.IgnoreCase)]
    private static partial Regex AndSplitter();

    [GeneratedRegex(@"^(?<kind>tags|attributes|attribute|run)\.(?<key>`[^`]+`|""[^""]+""|[\w.\-/]+)\s*=\s*'(?<value>(?:[^']|'')*)'$")]
    private static partial Regex ClausePattern();

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
