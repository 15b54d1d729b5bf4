using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Mesh.Mlflow;

/// <summary>
/// A client of the MLflow REST API (<c>/api/2.0/mlflow/...</c>) and of its artifact proxy
/// (<c>/api/2.0/mlflow-artifacts/...</c>). Answers with an <c>error_code</c> become typed
/// <see cref="MlflowException"/>s; 429, 5xx and connection failures are retried with exponential backoff.
/// Thread-safe; make one per process around a long-lived <see cref="HttpClient"/>.
/// </summary>
public sealed class MlflowClient
{
    private const string ApiPrefix = "api/2.0/";
    private readonly HttpClient _http;
    private readonly MlflowClientOptions _options;
    private readonly Uri _baseUri;
    private readonly AuthenticationHeaderValue? _authorization;

    /// <summary>Creates a client; <paramref name="options"/> must name the tracking server.</summary>
    /// <exception cref="ArgumentException">No <see cref="MlflowClientOptions.TrackingUri"/>.</exception>
    public MlflowClient(HttpClient http, MlflowClientOptions options)
    {
        _http = http;
        _options = options;
        var tracking = options.TrackingUri ?? throw new ArgumentException("MLFLOW_TRACKING_URI is not set: the MLflow client needs the tracking server's URL.", nameof(options));
        _baseUri = new Uri(tracking.AbsoluteUri.EndsWith('/') ? tracking.AbsoluteUri : tracking.AbsoluteUri + "/");
        if (options.Token is { } token)
        {
            _authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (options.Username is { } user)
        {
            _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{options.Password}")));
        }
    }

    /// <summary>The tracking server this client talks to.</summary>
    public Uri TrackingUri => _baseUri;

    /// <summary>GET <c>/api/2.0/{endpoint}</c> with query parameters, the answer read as JSON.</summary>
    public async Task<T> GetAsync<T>(string endpoint, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(_baseUri, ApiPrefix + endpoint + Query(query));
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync<T>(response, endpoint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST a JSON body to <c>/api/2.0/{endpoint}</c>, the answer read as JSON (tracking calls such as <c>mlflow/runs/log-batch</c>).</summary>
    public Task<T> PostAsync<T>(string endpoint, object body, CancellationToken cancellationToken = default) =>
        PostAsync<T>(endpoint, body, retryUnanswered: true, cancellationToken);

    /// <summary>
    /// As <see cref="PostAsync{T}(string, object, CancellationToken)"/>; with <paramref name="retryUnanswered"/> false, a
    /// request that got no answer (a timeout, a connection reset) is not sent again: the server may have done it, and a
    /// call that is not idempotent (<c>runs/create</c>) would be done twice. The caller finds out what happened instead.
    /// Refusals the server answers (429, 5xx) are retried either way: it did not do them.
    /// </summary>
    public async Task<T> PostAsync<T>(string endpoint, object body, bool retryUnanswered, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(_baseUri, ApiPrefix + endpoint);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent.Create(body) }, HttpCompletionOption.ResponseContentRead, cancellationToken, retryUnanswered).ConfigureAwait(false);
        return await ReadJsonAsync<T>(response, endpoint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The version an alias points at (<c>GET mlflow/registered-models/alias</c>).</summary>
    /// <exception cref="MlflowResourceNotFoundException">No such alias (whatever status the server answered it with).</exception>
    public async Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken = default)
    {
        ModelVersionResponse response;
        try
        {
            response = await GetAsync<ModelVersionResponse>("mlflow/registered-models/alias", [new("name", name), new("alias", alias)], cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowInvalidParameterException e) when (e.ServerMessage.Contains("not found", StringComparison.OrdinalIgnoreCase))
        {
            // A real MLflow 3 server answers a missing alias with 400 INVALID_PARAMETER_VALUE
            // ("Registered model alias champion not found."), not RESOURCE_DOES_NOT_EXIST: it is the same fact.
            throw new MlflowResourceNotFoundException(e.ServerMessage, e.StatusCode);
        }

        return response.ModelVersion ?? throw Malformed("mlflow/registered-models/alias", "model_version");
    }

    /// <summary>One model version (<c>GET mlflow/model-versions/get</c>).</summary>
    public async Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        var response = await GetAsync<ModelVersionResponse>("mlflow/model-versions/get", [new("name", name), new("version", version)], cancellationToken).ConfigureAwait(false);
        return response.ModelVersion ?? throw Malformed("mlflow/model-versions/get", "model_version");
    }

    /// <summary>
    /// The highest version of a registered model, as MLflow's clients resolve <c>models:/&lt;name&gt;/latest</c>
    /// (<c>POST mlflow/registered-models/get-latest-versions</c>, the latest of each stage, the highest of those).
    /// </summary>
    public async Task<ModelVersion> GetLatestModelVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        const string Endpoint = "mlflow/registered-models/get-latest-versions";
        var response = await PostAsync<ModelVersionsResponse>(Endpoint, new Dictionary<string, object> { ["name"] = name }, cancellationToken).ConfigureAwait(false);
        return response.ModelVersions?.OrderByDescending(v => long.TryParse(v.Version, out var n) ? n : 0).FirstOrDefault()
            ?? throw new MlflowResourceNotFoundException($"Registered model '{name}' has no versions ({Endpoint})", null);
    }

    /// <summary>The artifact root of an MLflow 3 logged model (<c>GET mlflow/logged-models/{model_id}</c>, <c>model.info.artifact_uri</c>).</summary>
    public async Task<string> GetLoggedModelArtifactUriAsync(string modelId, CancellationToken cancellationToken = default)
    {
        var endpoint = "mlflow/logged-models/" + Uri.EscapeDataString(modelId);
        var response = await GetAsync<LoggedModelResponse>(endpoint, [], cancellationToken).ConfigureAwait(false);
        return response.Model?.Info?.ArtifactUri ?? throw Malformed(endpoint, "model.info.artifact_uri");
    }

    /// <summary>
    /// Turns a URI MLflow hands back as a version's files into one that can be downloaded: <c>runs:/&lt;run&gt;/&lt;path&gt;</c>
    /// through the run's <c>artifact_uri</c>, <c>models:/m-&lt;id&gt;</c> through the logged model's; others unchanged.
    /// </summary>
    public async Task<string> ResolveArtifactUriAsync(string uri, CancellationToken cancellationToken = default)
    {
        if (uri.StartsWith("runs:/", StringComparison.Ordinal))
        {
            var rest = uri["runs:/".Length..].Trim('/');
            var slash = rest.IndexOf('/');
            var runId = slash < 0 ? rest : rest[..slash];
            var root = (await GetRunArtifactUriAsync(runId, cancellationToken).ConfigureAwait(false)).TrimEnd('/');
            return slash < 0 ? root : root + "/" + rest[(slash + 1)..];
        }

        if (uri.StartsWith("models:/m-", StringComparison.Ordinal))
        {
            var rest = uri["models:/".Length..].Trim('/');
            var slash = rest.IndexOf('/');
            var root = (await GetLoggedModelArtifactUriAsync(slash < 0 ? rest : rest[..slash], cancellationToken).ConfigureAwait(false)).TrimEnd('/');
            return slash < 0 ? root : root + "/" + rest[(slash + 1)..];
        }

        return uri;
    }

    /// <summary>
    /// What <c>GET mlflow/model-versions/get-download-uri</c> answers: the version's source unchanged (a real MLflow 3
    /// server hands back <c>runs:/&lt;run_id&gt;/model</c>), which <see cref="ResolveArtifactUriAsync"/> makes downloadable.
    /// </summary>
    public async Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        var response = await GetAsync<DownloadUriResponse>("mlflow/model-versions/get-download-uri", [new("name", name), new("version", version)], cancellationToken).ConfigureAwait(false);
        return response.ArtifactUri ?? throw Malformed("mlflow/model-versions/get-download-uri", "artifact_uri");
    }

    /// <summary>The artifact root of a run (<c>GET mlflow/runs/get</c>, <c>run.info.artifact_uri</c>).</summary>
    public async Task<string> GetRunArtifactUriAsync(string runId, CancellationToken cancellationToken = default)
    {
        var response = await GetAsync<RunResponse>("mlflow/runs/get", [new("run_id", runId)], cancellationToken).ConfigureAwait(false);
        return response.Run?.Info?.ArtifactUri ?? throw Malformed("mlflow/runs/get", "run.info.artifact_uri");
    }

    /// <summary>Lists a folder through the artifact proxy (<c>GET mlflow-artifacts/artifacts?path=</c>); a file or a missing path lists empty.</summary>
    public async Task<IReadOnlyList<ArtifactFile>> ListProxiedArtifactsAsync(string path, CancellationToken cancellationToken = default)
    {
        var response = await GetAsync<ListArtifactsResponse>("mlflow-artifacts/artifacts", [new("path", path.Trim('/'))], cancellationToken).ConfigureAwait(false);
        return response.Files ?? [];
    }

    /// <summary>Downloads one file through the artifact proxy (<c>GET mlflow-artifacts/artifacts/&lt;path&gt;</c>) into <paramref name="destinationFile"/>.</summary>
    public async Task DownloadProxiedArtifactAsync(string path, string destinationFile, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(_baseUri, ApiPrefix + "mlflow-artifacts/artifacts/" + EscapePath(path.Trim('/')));
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destinationFile))!);
        await using var file = File.Create(destinationFile);
        await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies everything under an artifact URI into <paramref name="destination"/>: <c>runs:/</c> and <c>models:/m-</c>
    /// URIs resolved first, <c>mlflow-artifacts:</c> URIs
    /// through the proxy (folders recursively), <c>file:</c> URIs and local paths by copying, only with
    /// <see cref="MlflowClientOptions.AllowLocalArtifacts"/>. Cloud store URIs (<c>s3://</c>, ...) are refused: run the
    /// tracking server with artifact proxying (MLflow's default).
    /// </summary>
    public async Task DownloadArtifactsAsync(string artifactUri, string destination, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(destination);
        artifactUri = await ResolveArtifactUriAsync(artifactUri, cancellationToken).ConfigureAwait(false);
        if (artifactUri.StartsWith("mlflow-artifacts:", StringComparison.Ordinal))
        {
            var path = ProxyPath(artifactUri);
            var files = await ListProxiedArtifactsAsync(path, cancellationToken).ConfigureAwait(false);
            if (files.Count == 0)
            {
                // A file lists empty, and so does a missing path; the proxy answers a missing file with a 500, which
                // would be retried as if the server were failing. The parent's listing tells the two apart.
                await EnsureProxiedFileExistsAsync(path, artifactUri, cancellationToken).ConfigureAwait(false);
                await DownloadProxiedArtifactAsync(path, Path.Combine(destination, LastSegment(path)), cancellationToken).ConfigureAwait(false);
                return;
            }

            await DownloadFolderAsync(path, files, destination, cancellationToken).ConfigureAwait(false);
            return;
        }

        var local = artifactUri.StartsWith("file:", StringComparison.Ordinal) ? new Uri(artifactUri).LocalPath : artifactUri;
        if (Path.IsPathRooted(local))
        {
            if (!_options.AllowLocalArtifacts)
            {
                throw new MlflowException("LOCAL_ARTIFACT_URI_REFUSED",
                    $"the tracking server answered '{artifactUri}', a path on its own disk: start it with artifact proxying " +
                    "(mlflow server --serve-artifacts, MLflow's default) so artifacts come as mlflow-artifacts:, or, where this machine mounts " +
                    "the server's artifact store at the same path, allow local artifacts (ModelHost:Mlflow:AllowLocalArtifacts=true)");
            }

            CopyLocal(local, destination);
            return;
        }

        throw new MlflowException("UNSUPPORTED_ARTIFACT_URI",
            $"cannot download '{artifactUri}': only mlflow-artifacts: (the tracking server's artifact proxy) and local paths are supported");
    }

    private async Task EnsureProxiedFileExistsAsync(string path, string artifactUri, CancellationToken cancellationToken)
    {
        var slash = path.LastIndexOf('/');
        var parent = slash < 0 ? "" : path[..slash];
        var name = LastSegment(path);
        var siblings = await ListProxiedArtifactsAsync(parent, cancellationToken).ConfigureAwait(false);
        if (!siblings.Any(f => !f.IsDir && LastSegment(f.Path) == name))
        {
            throw new MlflowResourceNotFoundException(
                $"'{artifactUri}' does not exist: the artifact proxy lists nothing under it and '{(parent.Length == 0 ? "/" : parent)}' holds no file '{name}'", null);
        }
    }

    private async Task DownloadFolderAsync(string path, IReadOnlyList<ArtifactFile> files, string destination, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            // The proxy names entries relative to the listed folder; older servers sent the full path.
            var name = LastSegment(file.Path);
            if (name is "" or "." or ".." || name.Contains('\\'))
            {
                throw new MlflowException(MlflowErrorCodes.InvalidParameterValue, $"the artifact listing of '{path}' holds an unsafe name '{file.Path}'");
            }

            var childPath = path.Length == 0 ? name : path + "/" + name;
            var target = Path.Combine(destination, name);
            if (file.IsDir)
            {
                Directory.CreateDirectory(target);
                var children = await ListProxiedArtifactsAsync(childPath, cancellationToken).ConfigureAwait(false);
                await DownloadFolderAsync(childPath, children, target, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await DownloadProxiedArtifactAsync(childPath, target, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, HttpCompletionOption completion, CancellationToken cancellationToken, bool retryUnanswered = true)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = create();
            request.Headers.Authorization = _authorization;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (attempt >= _options.MaxRetries || !retryUnanswered)
                {
                    throw new MlflowException(MlflowErrorCodes.TemporarilyUnavailable, $"{request.Method} {request.RequestUri} failed after {attempt + 1} attempt(s): {e.Message}", null, e);
                }

                await Task.Delay(Backoff(attempt, null), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var retryable = response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
            if (retryable && attempt < _options.MaxRetries)
            {
                var delay = Backoff(attempt, response.Headers.RetryAfter);
                response.Dispose();
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                continue;
            }

            using (response)
            {
                throw await ErrorAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private TimeSpan Backoff(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        var delay = retryAfter?.Delta
            ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : TimeSpan.FromSeconds(_options.BackoffFactor * Math.Pow(2, attempt)));
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > _options.MaxBackoff ? _options.MaxBackoff : delay;
    }

    private static async Task<MlflowException> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        ErrorResponse? error = null;
        try
        {
            error = JsonSerializer.Deserialize<ErrorResponse>(body);
        }
        catch (JsonException)
        {
            // Not MLflow's error body (a proxy's page, for example): fall back to the status.
        }

        var code = error?.ErrorCode ?? response.StatusCode switch
        {
            HttpStatusCode.NotFound => MlflowErrorCodes.ResourceDoesNotExist,
            HttpStatusCode.Unauthorized => MlflowErrorCodes.Unauthenticated,
            HttpStatusCode.Forbidden => MlflowErrorCodes.PermissionDenied,
            HttpStatusCode.BadRequest => MlflowErrorCodes.BadRequest,
            HttpStatusCode.TooManyRequests => MlflowErrorCodes.RequestLimitExceeded,
            HttpStatusCode.ServiceUnavailable => MlflowErrorCodes.TemporarilyUnavailable,
            >= HttpStatusCode.InternalServerError => MlflowErrorCodes.InternalError,
            _ => MlflowErrorCodes.Unknown,
        };
        var message = error?.Message ?? (body.Length > 500 ? body[..500] : body);
        return MlflowException.Create(code, $"{message} ({response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: HTTP {(int)response.StatusCode})", response.StatusCode);
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, string endpoint, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(cancellationToken).ConfigureAwait(false) ?? throw Malformed(endpoint, "a JSON body");
        }
        catch (JsonException e)
        {
            throw new MlflowException(MlflowErrorCodes.Unknown, $"{endpoint} answered with a body that is not the JSON expected: {e.Message}", response.StatusCode, e);
        }
    }

    private static MlflowException Malformed(string endpoint, string field) =>
        new(MlflowErrorCodes.Unknown, $"{endpoint} answered without {field}");

    private static string Query(IEnumerable<KeyValuePair<string, string?>> query)
    {
        var parts = query.Where(p => p.Value is not null).Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return parts.Count == 0 ? "" : "?" + string.Join("&", parts);
    }

    private static string EscapePath(string path) => string.Join("/", path.Split('/').Select(Uri.EscapeDataString));

    private static string LastSegment(string path) => path.TrimEnd('/').Split('/')[^1];

    // mlflow-artifacts:/<path> or mlflow-artifacts://<host>/<path>: the path under the proxy's root.
    private static string ProxyPath(string artifactUri)
    {
        var rest = artifactUri["mlflow-artifacts:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOf('/', 2);
            rest = slash < 0 ? "" : rest[slash..];
        }

        return rest.Trim('/');
    }

    private static void CopyLocal(string source, string destination)
    {
        if (File.Exists(source))
        {
            File.Copy(source, Path.Combine(destination, Path.GetFileName(source)), overwrite: true);
            return;
        }

        if (!Directory.Exists(source))
        {
            throw new MlflowResourceNotFoundException($"the artifact path '{source}' does not exist on this machine", null);
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
