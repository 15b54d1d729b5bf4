using System.Globalization;
using System.Text;

namespace Mesh.Mlflow;

/// <summary>
/// Reads and writes the files of MLflow's file store (<c>meta.yaml</c>, one file per param and tag, one line per
/// metric value), so that <see cref="LocalTrackingStore"/> only decides which calls touch which files.
/// </summary>
internal static class MlflowFileStore
{
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteParams(string run, IReadOnlyList<MlflowKeyValue> parameters)
    {
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
            File.WriteAllText(path, parameter.Value, Utf8);
        }
    }

    public static void AppendMetrics(string run, IReadOnlyList<MlflowMetric> metrics)
    {
        foreach (var group in metrics.GroupBy(m => m.Key, StringComparer.Ordinal))
        {
            var path = Path.Combine(run, "metrics", SafeKey(group.Key));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var lines = new StringBuilder();
            foreach (var metric in group)
            {
                lines.Append(CultureInfo.InvariantCulture, $"{metric.Timestamp} {metric.Value.ToString("R", CultureInfo.InvariantCulture)} {metric.Step}\n");
            }

            File.AppendAllText(path, lines.ToString(), Utf8);
        }
    }

    public static void WriteRunMeta(string run, MlflowRunInfo info)
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

    public static MlflowRunInfo ReadRunInfo(string run)
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

    public static MlflowRun ReadRun(string run)
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

    public static List<MlflowMetric> ReadMetric(string file, string key)
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

    public static List<MlflowKeyValue> ReadKeyValues(string folder)
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

    public static void WriteKeyValues(string run, string kind, IEnumerable<MlflowKeyValue> values)
    {
        foreach (var value in values)
        {
            var path = Path.Combine(run, kind, SafeKey(value.Key));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WriteAtomically(path, value.Value);
        }
    }

    public static string FindRun(string root, string runId)
    {
        if (runId.Length == 0 || runId.Contains('/') || runId.Contains('\\') || runId.Contains(".."))
        {
            throw new MlflowInvalidParameterException(MlflowErrorCodes.InvalidParameterValue, $"'{runId}' is not a run id", null);
        }

        foreach (var experiment in Directory.EnumerateDirectories(root))
        {
            var run = Path.Combine(experiment, runId);
            if (File.Exists(Path.Combine(run, "meta.yaml")))
            {
                return run;
            }
        }

        throw new MlflowResourceNotFoundException($"Run '{runId}' not found in {root}");
    }

    // Keys may hold '/', as in MLflow's file store (a sub-folder); nothing may climb out of the run.
    public static string SafeKey(string key)
    {
        var parts = key.Split('/');
        if (key.Length == 0 || parts.Any(p => p is "" or "." or "..") || key.Contains('\\'))
        {
            throw new MlflowInvalidParameterException(MlflowErrorCodes.InvalidParameterValue, $"Invalid key '{key}'", null);
        }

        return Path.Combine(parts);
    }

    public static Dictionary<string, string> ReadMeta(string path)
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

    public static string Yaml(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    public static string Unyaml(string value) =>
        value.Length >= 2 && value[0] == '\'' && value[^1] == '\'' ? value[1..^1].Replace("''", "'", StringComparison.Ordinal) : value;

    public static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text, Utf8);
        File.Move(temporary, path, overwrite: true);
    }
}
