using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.ModelHost.Models;

/// <summary>The outcome of resolving an MLflow model again.</summary>
internal sealed record RefreshResult(string Name, string? Version, bool Swapped, string? Error);

/// <summary>
/// Serves models from the MLflow registry (<c>ModelHost:Mlflow:Models</c>): resolves each URI, downloads the
/// files through the artifact proxy into a cache, reads the MLmodel file and loads the onnx flavor. Aliases
/// are polled (and refreshed on an admin call): a new version is loaded and warmed beside the old one, then
/// published atomically; a version that fails to load leaves the old one serving.
/// </summary>
internal sealed partial class MlflowModelSource(
    ModelCatalog catalog,
    ModelHostTelemetry telemetry,
    IOptions<ModelHostOptions> options,
    IMeterFactory meterFactory,
    ILogger<MlflowModelSource> logger) : IDisposable
{
    /// <summary>Joins a chain's step versions into the chain's version: <c>3+7</c>.</summary>
    public const string ChainVersionSeparator = "+";

    private readonly HttpClient _http = new();
    private readonly UnresolvedModels _unresolved = new(meterFactory);
    private List<Entry>? _entries;
    private MlflowClient? _client;

    public bool HasModels => options.Value.Mlflow.Models.Count > 0;

    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in Entries())
        {
            await RefreshAsync(entry, force: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Polls every alias every <c>ModelHost:Mlflow:PollSeconds</c> until the host stops.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        var seconds = options.Value.Mlflow.PollSeconds;
        // Aliases and latest move; versions, runs and logged models do not.
        var aliases = Entries().Where(e => e.Uris.Any(u => u.Kind is MlflowModelUriKind.Alias or MlflowModelUriKind.Latest)).ToList();
        if (seconds <= 0 || aliases.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var entry in aliases)
            {
                await RefreshAsync(entry, force: false, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Served models whose URI no longer resolves (a deleted alias, say), with the reason; their version keeps serving.</summary>
    public IReadOnlyList<(string Model, string Version, string Reason)> Unresolved => _unresolved.Snapshot;

    /// <summary>Resolves a served MLflow model now (the admin call); null when no MLflow model has that name.</summary>
    public Task<RefreshResult>? RefreshAsync(string servedName, CancellationToken cancellationToken)
    {
        var entry = Entries().FirstOrDefault(e => e.ServedName == servedName);
        return entry is null ? null : RefreshAsync(entry, force: true, cancellationToken);
    }

    /// <summary>Resolves now every served model that follows <paramref name="name"/>@<paramref name="alias"/> (a webhook said it moved).</summary>
    public async Task<IReadOnlyList<RefreshResult>> RefreshAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        var results = new List<RefreshResult>();
        foreach (var entry in Entries().Where(e => e.Uris.Any(u => u.Kind == MlflowModelUriKind.Alias && u.Name == name && u.Alias == alias)))
        {
            results.Add(await RefreshAsync(entry, force: false, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    public void Dispose() => _http.Dispose();

    private async Task<RefreshResult> RefreshAsync(Entry entry, bool force, CancellationToken cancellationToken)
    {
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        string? version = null;
        try
        {
            var resolved = new ResolvedModel[entry.Uris.Count];
            try
            {
                for (var k = 0; k < resolved.Length; k++)
                {
                    resolved[k] = await entry.Uris[k].ResolveAsync(Client(), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (MlflowException e) when (entry.CurrentVersion is not null)
            {
                // A deleted alias or an unreachable server: the version served stays right to serve, so this is
                // reported once per change (log, gauge, /health), not as a failure on every poll.
                MarkUnresolved(entry, e.Message);
                return new RefreshResult(entry.ServedName, entry.CurrentVersion, false, $"{entry.Text}: {e.Message}");
            }

            MarkResolved(entry);
            // A chain's version names its steps' versions, so a step that moves makes a new version of the chain.
            version = string.Join(ChainVersionSeparator, resolved.Select(r => r.Version));
            if (version == entry.CurrentVersion || (!force && version == entry.FailedVersion))
            {
                return new RefreshResult(entry.ServedName, entry.CurrentVersion, false, null);
            }

            var folders = new string[resolved.Length];
            for (var k = 0; k < folders.Length; k++)
            {
                var cacheName = entry.IsChain ? Path.Combine(entry.ServedName, $"step-{k + 1}") : entry.ServedName;
                folders[k] = await DownloadAsync(cacheName, resolved[k], cancellationToken).ConfigureAwait(false);
            }

            var model = await Task.Run(() => entry.IsChain ? LoadChain(entry, version, folders) : Load(entry.ServedName, version, folders[0]), cancellationToken).ConfigureAwait(false);
            var previous = entry.CurrentVersion;
            catalog.Publish(entry.ServedName, version, model);
            entry.CurrentVersion = version;
            entry.FailedVersion = null;
            LogPublished(entry.ServedName, version, entry.Text, previous ?? "(none)");
            return new RefreshResult(entry.ServedName, version, previous is not null, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            entry.FailedVersion = version;
            LogLoadFailed(e, entry.ServedName, entry.Text, version ?? "(unresolved)", entry.CurrentVersion ?? "(none)");
            catalog.PublishFailure(entry.ServedName, version ?? "", $"{entry.Text}: {e.Message}");
            return new RefreshResult(entry.ServedName, entry.CurrentVersion, false, $"{entry.Text} version {version ?? "(unresolved)"}: {e.Message}");
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private ServedModel Load(string servedName, string version, string folder)
    {
        var settings = options.Value;
        var mlmodel = MlmodelFile.Read(folder);
        var model = ServedModel.Load(servedName, version, folder, settings.DefaultSessionSettings(), settings.Batching.ToSettings(), telemetry, mlmodel);
        try
        {
            mlmodel.CheckOutputs(model.Outputs, Path.Combine(folder, MlmodelFile.FileName));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private ServedModel LoadChain(Entry entry, string version, string[] folders)
    {
        var settings = options.Value;
        var steps = folders.Select((folder, k) => new ChainStepSource(entry.Uris[k].Text, folder, MlmodelFile.Read(folder))).ToList();
        return ServedModel.LoadChain(entry.ServedName, version, steps, settings.DefaultSessionSettings(), settings.Batching.ToSettings(), telemetry);
    }

    private void MarkUnresolved(Entry entry, string reason)
    {
        if (_unresolved.Mark(entry.ServedName, entry.CurrentVersion!, reason))
        {
            LogUnresolved(entry.ServedName, entry.Text, entry.CurrentVersion!, reason);
        }
    }

    private void MarkResolved(Entry entry)
    {
        if (_unresolved.Clear(entry.ServedName))
        {
            LogResolvedAgain(entry.ServedName, entry.Text);
        }
    }

    // Run and logged-model artifacts do not change once written, so a complete download is reused. A version
    // number does not name them: a registered model deleted and created again starts at version 1 with other
    // files, so the folder is keyed by what identifies the content (creation time, run, source).
    private async Task<string> DownloadAsync(string cacheName, ResolvedModel resolved, CancellationToken cancellationToken)
    {
        var content = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(resolved.ContentId + "|" + resolved.ArtifactUri)))[..16];
        var folder = Path.Combine(options.Value.Mlflow.ResolveCacheDir(), cacheName, resolved.Version + "-" + content);
        if (File.Exists(Path.Combine(folder, MlmodelFile.FileName)))
        {
            return folder;
        }

        var partial = folder + ".partial-" + Guid.NewGuid().ToString("N");
        try
        {
            await Client().DownloadArtifactsAsync(resolved.ArtifactUri, partial, cancellationToken).ConfigureAwait(false);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            Directory.Move(partial, folder);
            return folder;
        }
        finally
        {
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }
        }
    }

    private MlflowClient Client() => _client ??= new MlflowClient(_http, options.Value.Mlflow.ClientOptions());

    // The admin call can race the loader for the first use: one list must win, or one model would get two gates.
    private List<Entry> Entries() => LazyInitializer.EnsureInitialized(ref _entries, () =>
    [
        .. options.Value.Mlflow.Models.Select(m =>
        {
            if (m.Steps.Count > 0)
            {
                return new Entry([.. m.Steps.Select(Parse)], m.Name!.Trim());
            }

            var uri = Parse(m.Uri);
            return new Entry([uri], string.IsNullOrWhiteSpace(m.Name) ? uri.Name : m.Name.Trim());
        }),
    ]);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model} version {Version} from {Uri} (was {Previous})")]
    private partial void LogPublished(string model, string version, string uri, string previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: {Uri} does not resolve ({Reason}); version {Serving} keeps serving")]
    private partial void LogUnresolved(string model, string uri, string serving, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: {Uri} resolves again")]
    private partial void LogResolvedAgain(string model, string uri);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model} from {Uri} version {Version} failed to load; version {Serving} keeps serving")]
    private partial void LogLoadFailed(Exception exception, string model, string uri, string version, string serving);

    // The options validator parsed every URI at start.
    private static MlflowModelUri Parse(string text)
    {
        MlflowModelUri.TryParse(text, out var uri, out _);
        return uri!;
    }

    /// <summary>One served model: one URI, or a chain's steps (two or more).</summary>
    private sealed class Entry(IReadOnlyList<MlflowModelUri> uris, string servedName)
    {
        public IReadOnlyList<MlflowModelUri> Uris { get; } = uris;

        public bool IsChain => Uris.Count > 1;

        /// <summary>What the logs name: the URI, or the steps' URIs in order.</summary>
        public string Text { get; } = uris.Count == 1 ? uris[0].Text : "[" + string.Join(", ", uris.Select(u => u.Text)) + "]";

        public string ServedName { get; } = servedName;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public string? CurrentVersion { get; set; }

        public string? FailedVersion { get; set; }
    }
}
