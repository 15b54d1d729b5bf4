using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mesh.Mlflow.Tests;

/// <summary>
/// An HTTP server on 127.0.0.1 that answers the MLflow REST calls the model host makes the way MLflow's
/// REST API documentation specifies them: the registry (registered-models/alias, model-versions/get,
/// registered-models/get-latest-versions, model-versions/get-download-uri), runs/get, logged-models/{id},
/// and the artifact proxy (mlflow-artifacts list and download), with MLflow's error bodies. Artifacts live
/// in a folder; tests register versions, move aliases and inject failures.
/// Where the documentation and a real MLflow 3.6 server (SQLite store, artifact proxy) differ, it answers as
/// the real server did:
/// - <c>model-versions/get-download-uri</c> hands back the version's <c>source</c> unchanged (a version
///   registered from a run: <c>runs:/&lt;run_id&gt;/model</c>); the run's <c>artifact_uri</c> (runs/get) is
///   <c>mlflow-artifacts:/&lt;experiment_id&gt;/&lt;run_id&gt;/artifacts</c>.
/// - <c>registered-models/alias</c> for a missing alias answers HTTP 400 <c>INVALID_PARAMETER_VALUE</c>
///   ("Registered model alias champion not found."), not 404.
/// - A missing file through the artifact proxy (<c>GET mlflow-artifacts/artifacts/&lt;path&gt;</c>) answers HTTP 500
///   <c>INTERNAL_ERROR</c>, not 404; listing a missing folder (or a file) answers <c>{}</c> with 200.
/// - A logged model's <c>artifact_uri</c> is <c>mlflow-artifacts:/&lt;experiment_id&gt;/models/&lt;model_id&gt;/artifacts</c>.
/// </summary>
public sealed class FakeMlflowServer : IFakeMlflow
{
    private LoopbackApp _app = null!;
    private readonly ConcurrentDictionary<(string Name, string Version), RegisteredVersion> _versions = new();
    private readonly ConcurrentDictionary<(string Name, string Version, string Key), string> _versionTags = new();
    private readonly ConcurrentDictionary<string, string> _loggedModels = new(StringComparer.Ordinal);
    private long _registrations;
    private readonly ConcurrentDictionary<(string Name, string Alias), string> _aliases = new();
    private readonly ConcurrentQueue<int> _failures = new();
    private int _requests;

    private FakeMlflowServer(string artifactRoot) => ArtifactRoot = artifactRoot;

    /// <summary>The folder the artifact proxy serves (<c>mlflow-artifacts:/&lt;path&gt;</c> is <c>ArtifactRoot/&lt;path&gt;</c>).</summary>
    public string ArtifactRoot { get; }

    public Uri Uri => _app.Uri;

    /// <summary>When set, every call must carry this Authorization header value.</summary>
    public string? RequiredAuthorization { get; set; }

    public int Requests => Volatile.Read(ref _requests);

    public ConcurrentQueue<string> AuthorizationSeen { get; } = new();

    public static async Task<FakeMlflowServer> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "mesh-fake-mlflow-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var server = new FakeMlflowServer(root);
        server._app = await LoopbackApp.StartAsync(root, server.Map);
        return server;
    }

    /// <summary>
    /// Registers a version whose files are those of run <paramref name="runId"/> under <c>artifacts/model</c>, as
    /// <c>mlflow.register_model("runs:/&lt;run_id&gt;/model", name)</c> does (or from <paramref name="source"/>).
    /// </summary>
    public string AddVersion(string name, string version, string runId, string? source = null)
    {
        // As the server stamps it: a version registered again after a delete gets a later creation time.
        var created = 1764250000000 + Interlocked.Increment(ref _registrations);
        _versions[(name, version)] = new RegisteredVersion(runId, source ?? $"runs:/{runId}/model", created);
        var folder = Path.Combine(ArtifactRoot, "0", runId, "artifacts", "model");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Logs an MLflow 3 model <c>m-&lt;id&gt;</c> (no run, no registration); returns its artifact folder.</summary>
    public string AddLoggedModel(string modelId)
    {
        _loggedModels[modelId] = $"mlflow-artifacts:/0/models/{modelId}/artifacts";
        var folder = Path.Combine(ArtifactRoot, "0", "models", modelId, "artifacts");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Deletes a registered model with its versions and aliases (<c>registered-models/delete</c>); artifacts stay, as on the server.</summary>
    public void DeleteRegisteredModel(string name)
    {
        foreach (var key in _versions.Keys.Where(k => k.Name == name))
        {
            _versions.TryRemove(key, out _);
        }

        foreach (var key in _aliases.Keys.Where(k => k.Name == name))
        {
            _aliases.TryRemove(key, out _);
        }
    }

    public void SetAlias(string name, string alias, string version) => _aliases[(name, alias)] = version;

    public void DeleteAlias(string name, string alias) => _aliases.TryRemove((name, alias), out _);

    public string? Alias(string name, string alias) => _aliases.GetValueOrDefault((name, alias));

    public string? VersionTag(string name, string version, string key) => _versionTags.GetValueOrDefault((name, version, key));

    /// <summary>The next <paramref name="count"/> calls answer <paramref name="status"/> (429 or 503 with MLflow's error body).</summary>
    public void FailNext(int count, int status)
    {
        for (var i = 0; i < count; i++)
        {
            _failures.Enqueue(status);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(ArtifactRoot, recursive: true);
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref _requests);
            AuthorizationSeen.Enqueue(context.Request.Headers.Authorization.ToString());
            if (RequiredAuthorization is not null && context.Request.Headers.Authorization != RequiredAuthorization)
            {
                await Error(context, 401, "UNAUTHENTICATED", "You are not authenticated.");
                return;
            }

            if (_failures.TryDequeue(out var status))
            {
                await Error(context, status, status == 429 ? "REQUEST_LIMIT_EXCEEDED" : "TEMPORARILY_UNAVAILABLE", "try again");
                return;
            }

            await next(context);
        });

        app.MapGet("/api/2.0/mlflow/registered-models/alias", (HttpContext context) =>
        {
            var name = context.Request.Query["name"].ToString();
            var alias = context.Request.Query["alias"].ToString();
            return _aliases.TryGetValue((name, alias), out var version)
                ? Results.Json(new JsonObject { ["model_version"] = VersionJson(name, version) })
                : MlflowError(400, "INVALID_PARAMETER_VALUE", $"Registered model alias {alias} not found.");
        });
        app.MapPost("/api/2.0/mlflow/registered-models/alias", async (HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body);
            var (name, alias, version) = ((string?)body?["name"] ?? "", (string?)body?["alias"] ?? "", (string?)body?["version"] ?? "");
            if (!_versions.ContainsKey((name, version)))
            {
                return MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={name}, version={version}) not found");
            }

            _aliases[(name, alias)] = version;
            return Results.Json(new JsonObject());
        });
        app.MapPost("/api/2.0/mlflow/model-versions/set-tag", async (HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body);
            var (name, version) = ((string?)body?["name"] ?? "", (string?)body?["version"] ?? "");
            if (!_versions.ContainsKey((name, version)))
            {
                return MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={name}, version={version}) not found");
            }

            _versionTags[(name, version, (string?)body?["key"] ?? "")] = (string?)body?["value"] ?? "";
            return Results.Json(new JsonObject());
        });
        app.MapGet("/api/2.0/mlflow/model-versions/get", (HttpContext context) =>
        {
            var (name, version) = (context.Request.Query["name"].ToString(), context.Request.Query["version"].ToString());
            return _versions.ContainsKey((name, version))
                ? Results.Json(new JsonObject { ["model_version"] = VersionJson(name, version) })
                : MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={name}, version={version}) not found");
        });
        app.MapGet("/api/2.0/mlflow/model-versions/get-download-uri", (HttpContext context) =>
        {
            var (name, version) = (context.Request.Query["name"].ToString(), context.Request.Query["version"].ToString());
            return _versions.TryGetValue((name, version), out var registered)
                ? Results.Json(new JsonObject { ["artifact_uri"] = registered.Source })
                : MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={name}, version={version}) not found");
        });
        app.MapPost("/api/2.0/mlflow/registered-models/get-latest-versions", async (HttpContext context) =>
        {
            var name = (string?)(await JsonNode.ParseAsync(context.Request.Body))?["name"] ?? "";
            var versions = _versions.Keys.Where(k => k.Name == name).ToList();
            if (versions.Count == 0)
            {
                return MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Registered Model with name={name} not found");
            }

            // No stages in use: every version is in stage None, and the latest of that stage is the highest.
            var latest = versions.MaxBy(k => long.Parse(k.Version, System.Globalization.CultureInfo.InvariantCulture));
            return Results.Json(new JsonObject { ["model_versions"] = new JsonArray(VersionJson(name, latest.Version)) });
        });
        app.MapGet("/api/2.0/mlflow/logged-models/{modelId}", (string modelId) =>
            _loggedModels.TryGetValue(modelId, out var artifactUri)
                ? Results.Json(new JsonObject
                {
                    ["model"] = new JsonObject
                    {
                        ["info"] = new JsonObject { ["model_id"] = modelId, ["experiment_id"] = "0", ["name"] = "model", ["artifact_uri"] = artifactUri, ["status"] = "LOGGED_MODEL_READY" },
                        ["data"] = new JsonObject(),
                    },
                })
                : MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Logged model with ID '{modelId}' not found."));
        app.MapGet("/api/2.0/mlflow/runs/get", (HttpContext context) =>
        {
            var runId = context.Request.Query["run_id"].ToString();
            return Directory.Exists(Path.Combine(ArtifactRoot, "0", runId))
                ? Results.Json(new JsonObject
                {
                    ["run"] = new JsonObject
                    {
                        ["info"] = new JsonObject { ["run_id"] = runId, ["experiment_id"] = "0", ["status"] = "FINISHED", ["artifact_uri"] = $"mlflow-artifacts:/0/{runId}/artifacts" },
                        ["data"] = new JsonObject(),
                    },
                })
                : MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Run '{runId}' not found.");
        });
        app.MapGet("/api/2.0/mlflow-artifacts/artifacts", (HttpContext context) =>
        {
            // Entries are named relative to the listed folder; a file or a missing path lists empty.
            var folder = Resolve(context.Request.Query["path"].ToString());
            var listing = new JsonObject();
            if (folder is not null && Directory.Exists(folder))
            {
                var files = new JsonArray();
                foreach (var entry in Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal))
                {
                    var isDir = Directory.Exists(entry);
                    var file = new JsonObject { ["path"] = Path.GetFileName(entry), ["is_dir"] = isDir };
                    if (!isDir)
                    {
                        file["file_size"] = new FileInfo(entry).Length;
                    }

                    files.Add(file);
                }

                listing["files"] = files;
            }

            return Results.Json(listing);
        });
        app.MapGet("/api/2.0/mlflow-artifacts/artifacts/{**path}", (string path) =>
        {
            var file = Resolve(path);
            return file is not null && File.Exists(file)
                ? Results.File(file, "application/octet-stream")
                : MlflowError(500, "INTERNAL_ERROR", $"[Errno 2] No such file or directory: '/mlartifacts/{path}'");
        });
    }

    private JsonObject VersionJson(string name, string version)
    {
        var registered = _versions[(name, version)];
        var aliases = new JsonArray();
        foreach (var alias in _aliases.Where(a => a.Key.Name == name && a.Value == version).Select(a => a.Key.Alias))
        {
            aliases.Add(alias);
        }

        return new JsonObject
        {
            ["name"] = name,
            ["version"] = version,
            ["creation_timestamp"] = registered.CreationTimestamp,
            ["current_stage"] = "None",
            ["source"] = registered.Source,
            ["run_id"] = registered.RunId,
            ["status"] = "READY",
            ["aliases"] = aliases,
            ["tags"] = new JsonArray([.. _versionTags.Where(t => t.Key.Name == name && t.Key.Version == version)
                .Select(t => (JsonNode)new JsonObject { ["key"] = t.Key.Key, ["value"] = t.Value })]),
        };
    }

    private sealed record RegisteredVersion(string RunId, string Source, long CreationTimestamp);

    private string? Resolve(string path)
    {
        var full = Path.GetFullPath(Path.Combine(ArtifactRoot, path.Trim('/')));
        return full.StartsWith(ArtifactRoot, StringComparison.Ordinal) ? full : null;
    }

    private static IResult MlflowError(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error_code"] = code, ["message"] = message }, statusCode: status);

    private static Task Error(HttpContext context, int status, string code, string message) =>
        MlflowError(status, code, message).ExecuteAsync(context);
}
