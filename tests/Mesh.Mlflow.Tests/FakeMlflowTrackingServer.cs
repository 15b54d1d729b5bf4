using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mesh.Mlflow.Tests;

/// <summary>
/// An HTTP server on 127.0.0.1 answering MLflow's tracking REST calls as MLflow's REST API documentation
/// specifies them: experiments get-by-name/create, runs create/update/get/search/log-batch/set-tag,
/// metrics/get-history, registered-models/alias and model-versions/set-tag, with MLflow's error bodies and
/// its log-batch limits. Every request is recorded; tests take it down and bring it back.
/// Where the documentation and a real MLflow 3.6 server (SQLite store) differ, it answers as the real one did:
/// - <c>metrics/get-history</c> without <c>max_results</c> answers no metrics (only a page token).
/// - A run stays RUNNING, with no end time, until <c>runs/update</c> sets <c>status</c> and <c>end_time</c>.
/// - <c>runs/search</c> filters by <c>tags.`key` = 'value'</c> and <c>attributes.status = 'RUNNING'</c>, joined by AND.
/// </summary>
public sealed class FakeMlflowTrackingServer : IFakeMlflow
{
    private LoopbackApp _app = null!;
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _experiments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakeRun> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<int> _failures = new();

    public Uri Uri => _app.Uri;

    /// <summary>While true every call answers 503 TEMPORARILY_UNAVAILABLE, as a server restarting behind a proxy does.</summary>
    public bool Down { get; set; }

    public ConcurrentQueue<(string Method, string Path, string Query, JsonNode? Body)> Requests { get; } = new();

    /// <summary>How long <c>runs/create</c> waits, after creating the run, before it answers: a slow server whose answer a client gives up on.</summary>
    public TimeSpan CreateRunAnswerDelay { get; set; }

    public ConcurrentDictionary<(string Name, string Alias), string> Aliases { get; } = new();

    public ConcurrentDictionary<(string Name, string Version, string Key), string> VersionTags { get; } = new();

    public static async Task<FakeMlflowTrackingServer> StartAsync()
    {
        var server = new FakeMlflowTrackingServer();
        server._app = await LoopbackApp.StartAsync(Path.GetTempPath(), server.Map);
        return server;
    }

    public void FailNext(int count, int status)
    {
        for (var i = 0; i < count; i++)
        {
            _failures.Enqueue(status);
        }
    }

    public IReadOnlyList<JsonNode?> Bodies(string path) => Requests.Where(r => r.Path == path).Select(r => r.Body).ToList();

    public FakeRun? RunByName(string runName)
    {
        lock (_gate)
        {
            return _runs.Values.SingleOrDefault(r => r.Name == runName);
        }
    }

    public IReadOnlyList<FakeRun> RunsNamed(string runName)
    {
        lock (_gate)
        {
            return [.. _runs.Values.Where(r => r.Name == runName)];
        }
    }

    /// <summary>Removes a run, as deleting and garbage-collecting it in MLflow would.</summary>
    public void DeleteRun(string runName)
    {
        lock (_gate)
        {
            _runs.Remove(_runs.Values.Single(r => r.Name == runName).Id);
        }
    }

    public string? ExperimentId(string name)
    {
        lock (_gate)
        {
            return _experiments.GetValueOrDefault(name);
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            JsonNode? body = null;
            if (context.Request.ContentLength is > 0 || context.Request.Method == "POST")
            {
                using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
                var text = await reader.ReadToEndAsync();
                context.Request.Body.Position = 0;
                body = text.Length > 0 ? JsonNode.Parse(text) : null;
            }

            Requests.Enqueue((context.Request.Method, context.Request.Path.Value!, context.Request.QueryString.Value ?? "", body));
            if (Down)
            {
                await Error(503, "TEMPORARILY_UNAVAILABLE", "The server is restarting.").ExecuteAsync(context);
                return;
            }

            if (_failures.TryDequeue(out var status))
            {
                await Error(status, status == 429 ? "REQUEST_LIMIT_EXCEEDED" : "TEMPORARILY_UNAVAILABLE", "try again").ExecuteAsync(context);
                return;
            }

            await next(context);
        });

        const string Api = "/api/2.0/mlflow/";
        app.MapGet(Api + "experiments/get-by-name", (HttpContext c) =>
        {
            var name = c.Request.Query["experiment_name"].ToString();
            lock (_gate)
            {
                return _experiments.TryGetValue(name, out var id)
                    ? Results.Json(new JsonObject { ["experiment"] = new JsonObject { ["experiment_id"] = id, ["name"] = name, ["lifecycle_stage"] = "active" } })
                    : Error(404, "RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{name}'");
            }
        });
        app.MapPost(Api + "experiments/create", async (HttpContext c) =>
        {
            var body = await Body(c);
            var name = (string?)body?["name"];
            lock (_gate)
            {
                if (string.IsNullOrEmpty(name))
                {
                    return Error(400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'.");
                }

                if (_experiments.ContainsKey(name))
                {
                    return Error(400, "RESOURCE_ALREADY_EXISTS", $"Experiment '{name}' already exists.");
                }

                var id = (_experiments.Count + 1).ToString();
                _experiments[name] = id;
                return Results.Json(new JsonObject { ["experiment_id"] = id });
            }
        });
        app.MapPost(Api + "runs/create", async (HttpContext c) =>
        {
            var body = await Body(c);
            FakeRun run;
            lock (_gate)
            {
                var experimentId = (string?)body?["experiment_id"] ?? "";
                if (!_experiments.ContainsValue(experimentId))
                {
                    return Error(404, "RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={experimentId} exists");
                }

                run = new FakeRun(Guid.NewGuid().ToString("N"), experimentId, (string?)body?["run_name"] ?? "", (long?)body?["start_time"] ?? 0);
                foreach (var tag in body?["tags"]?.AsArray() ?? [])
                {
                    run.Tags[(string)tag!["key"]!] = (string)tag["value"]!;
                }

                _runs[run.Id] = run;
            }

            // The run exists from here on, whether or not the client waits for the answer.
            await Task.Delay(CreateRunAnswerDelay);
            return Results.Json(new JsonObject { ["run"] = run.Json() });
        });
        app.MapPost(Api + "runs/update", async (HttpContext c) =>
        {
            var body = await Body(c);
            lock (_gate)
            {
                if (!_runs.TryGetValue((string?)body?["run_id"] ?? "", out var run))
                {
                    return Error(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");
                }

                run.Status = (string?)body?["status"] ?? run.Status;
                run.EndTime = (long?)body?["end_time"] ?? run.EndTime;
                return Results.Json(new JsonObject { ["run_info"] = run.Json()["info"]!.DeepClone() });
            }
        });
        app.MapGet(Api + "runs/get", (HttpContext c) =>
        {
            lock (_gate)
            {
                return _runs.TryGetValue(c.Request.Query["run_id"].ToString(), out var run)
                    ? Results.Json(new JsonObject { ["run"] = run.Json() })
                    : Error(404, "RESOURCE_DOES_NOT_EXIST", $"Run '{c.Request.Query["run_id"]}' not found");
            }
        });
        app.MapPost(Api + "runs/search", async (HttpContext c) =>
        {
            var body = await Body(c);
            var ids = body?["experiment_ids"]?.AsArray().Select(n => (string)n!).ToHashSet() ?? [];
            var filter = (string?)body?["filter"];
            var max = (int?)body?["max_results"] ?? 1000;
            lock (_gate)
            {
                var runs = _runs.Values.Where(r => ids.Contains(r.ExperimentId) && Matches(r, filter)).Take(max);
                return Results.Json(new JsonObject { ["runs"] = new JsonArray(runs.Select(r => (JsonNode)r.Json()).ToArray()) });
            }
        });
        app.MapPost(Api + "runs/log-batch", async (HttpContext c) =>
        {
            var body = await Body(c);
            var metrics = body?["metrics"]?.AsArray() ?? [];
            var parameters = body?["params"]?.AsArray() ?? [];
            var tags = body?["tags"]?.AsArray() ?? [];
            if (metrics.Count > 1000 || parameters.Count > 100 || tags.Count > 100 || metrics.Count + parameters.Count + tags.Count > 1000)
            {
                return Error(400, "INVALID_PARAMETER_VALUE", "A batch logging request can contain at most 1000 metrics, 100 params, 100 tags and 1000 items in total.");
            }

            lock (_gate)
            {
                if (!_runs.TryGetValue((string?)body?["run_id"] ?? "", out var run))
                {
                    return Error(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");
                }

                foreach (var p in parameters)
                {
                    var (key, value) = ((string)p!["key"]!, (string)p["value"]!);
                    if (run.Params.TryGetValue(key, out var old) && old != value)
                    {
                        return Error(400, "INVALID_PARAMETER_VALUE", $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{old}'");
                    }

                    run.Params[key] = value;
                }

                foreach (var t in tags)
                {
                    run.Tags[(string)t!["key"]!] = (string)t["value"]!;
                }

                foreach (var m in metrics)
                {
                    run.Metrics.Add(((string)m!["key"]!, (double)m["value"]!, (long)m["timestamp"]!, (long?)m["step"] ?? 0));
                }

                return Results.Json(new JsonObject());
            }
        });
        app.MapPost(Api + "runs/set-tag", async (HttpContext c) =>
        {
            var body = await Body(c);
            lock (_gate)
            {
                if (!_runs.TryGetValue((string?)body?["run_id"] ?? "", out var run))
                {
                    return Error(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");
                }

                run.Tags[(string)body!["key"]!] = (string)body["value"]!;
                return Results.Json(new JsonObject());
            }
        });
        app.MapGet(Api + "metrics/get-history", (HttpContext c) =>
        {
            // As some MLflow 3.x servers do: without max_results, no metrics at all.
            if (!c.Request.Query.ContainsKey("max_results"))
            {
                return Results.Json(new JsonObject());
            }

            var key = c.Request.Query["metric_key"].ToString();
            lock (_gate)
            {
                if (!_runs.TryGetValue(c.Request.Query["run_id"].ToString(), out var run))
                {
                    return Error(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");
                }

                var max = int.Parse(c.Request.Query["max_results"].ToString());
                var values = run.Metrics.Where(m => m.Key == key).Take(max)
                    .Select(m => (JsonNode)new JsonObject { ["key"] = m.Key, ["value"] = m.Value, ["timestamp"] = m.Timestamp, ["step"] = m.Step });
                return Results.Json(new JsonObject { ["metrics"] = new JsonArray(values.ToArray()) });
            }
        });
        app.MapPost(Api + "registered-models/alias", async (HttpContext c) =>
        {
            var body = await Body(c);
            Aliases[((string)body!["name"]!, (string)body["alias"]!)] = (string)body["version"]!;
            return Results.Json(new JsonObject());
        });
        app.MapPost(Api + "model-versions/set-tag", async (HttpContext c) =>
        {
            var body = await Body(c);
            VersionTags[((string)body!["name"]!, (string)body["version"]!, (string)body["key"]!)] = (string)body["value"]!;
            return Results.Json(new JsonObject());
        });
    }

    private static bool Matches(FakeRun run, string? filter)
    {
        if (string.IsNullOrEmpty(filter))
        {
            return true;
        }

        // Only what the clients here send: tags.`key` = 'value' and attributes.status = 'VALUE', joined by AND.
        foreach (var clause in filter.Split(" AND ", StringSplitOptions.TrimEntries))
        {
            var tag = System.Text.RegularExpressions.Regex.Match(clause, @"^tags\.`([^`]+)` = '(.*)'$");
            var status = System.Text.RegularExpressions.Regex.Match(clause, @"^attributes\.status = '(.*)'$");
            var matches = tag.Success ? run.Tags.GetValueOrDefault(tag.Groups[1].Value) == tag.Groups[2].Value.Replace("''", "'")
                : status.Success ? run.Status == status.Groups[1].Value
                : throw new InvalidOperationException("unexpected filter " + filter);
            if (!matches)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<JsonNode?> Body(HttpContext context) => await JsonNode.ParseAsync(context.Request.Body);

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error_code"] = code, ["message"] = message }, statusCode: status);

    public sealed class FakeRun(string id, string experimentId, string name, long startTime)
    {
        public string Id => id;

        public string ExperimentId => experimentId;

        public string Name => name;

        public string Status { get; set; } = "RUNNING";

        public long? EndTime { get; set; }

        public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        public List<(string Key, double Value, long Timestamp, long Step)> Metrics { get; } = [];

        public JsonObject Json()
        {
            var latest = Metrics.GroupBy(m => m.Key).Select(g => g.OrderBy(m => m.Step).ThenBy(m => m.Timestamp).Last())
                .Select(m => (JsonNode)new JsonObject { ["key"] = m.Key, ["value"] = m.Value, ["timestamp"] = m.Timestamp, ["step"] = m.Step });
            return new JsonObject
            {
                ["info"] = new JsonObject
                {
                    ["run_id"] = id,
                    ["run_uuid"] = id,
                    ["run_name"] = name,
                    ["experiment_id"] = experimentId,
                    ["status"] = Status,
                    ["start_time"] = startTime,
                    ["end_time"] = EndTime,
                    ["artifact_uri"] = $"mlflow-artifacts:/{experimentId}/{id}/artifacts",
                    ["lifecycle_stage"] = "active",
                },
                ["data"] = new JsonObject
                {
                    ["metrics"] = new JsonArray(latest.ToArray()),
                    ["params"] = new JsonArray(Params.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray()),
                    ["tags"] = new JsonArray(Tags.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray()),
                },
            };
        }
    }
}
