using System.Collections.Concurrent;
using System.Diagnostics;
using Mesh.ModelHost.Batching;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.ModelHost.Models;

/// <summary>A model version found in the repository: loaded and warmed up, or the reason it failed.</summary>
internal sealed record ModelSlot(string Name, string Version, ServedModel? Model, string? LoadError);

/// <summary>Every model version of the repository, by name and version.</summary>
internal sealed partial class ModelCatalog(ModelHostTelemetry telemetry, IOptions<ModelHostOptions> options, ILogger<ModelCatalog> logger) : IDisposable
{
    private readonly ConcurrentDictionary<(string Name, string Version), ModelSlot> _slots = new();
    // The version a request without a version gets: the highest in the repository, or the one an MLflow alias points at.
    private readonly ConcurrentDictionary<string, string> _latestVersions = new(StringComparer.Ordinal);
    private readonly Lock _publishLock = new();

    // Per model, the published versions still served, oldest first (guarded by _publishLock).
    private readonly Dictionary<string, List<string>> _published = new(StringComparer.Ordinal);
    private volatile bool _loadingComplete;

    /// <summary>
    /// True once every model was tried and a version serves now. Read from the current slots, not fixed when
    /// loading ends: a model whose first version failed turns the host ready when a later version loads.
    /// </summary>
    public bool IsReady => _loadingComplete && _slots.Values.Any(s => s.Model is not null);

    /// <summary>False until every model of the repository was tried once at start: a model not found before then may still be on its way.</summary>
    public bool LoadingComplete => _loadingComplete;

    public IEnumerable<ModelSlot> Slots => _slots.Values;

    /// <summary>
    /// Loads every <c>&lt;name&gt;/&lt;version&gt;/model.onnx</c>, then every chain (a version folder whose config.json
    /// lists <c>steps</c>). A model that fails is logged and kept as a failed slot (so callers learn why), and the
    /// others are served.
    /// </summary>
    public void LoadAll(string repository, ModelSessionSettings sessionSettings, BatchingSettings batching, CancellationToken cancellationToken)
    {
        foreach (var (name, version, folder) in RepositoryLayout.FindModelFiles(repository))
        {
            LoadSlot(name, version, folder, () => ServedModel.Load(name, version, folder, sessionSettings, batching, telemetry), cancellationToken);
        }

        foreach (var (name, version, folder) in RepositoryLayout.FindChainFolders(repository))
        {
            if (!ModelConfigFile.DeclaresSteps(Path.Combine(folder, RepositoryLayout.ConfigFileName)))
            {
                // A config.json with neither a model nor steps was never served: left alone, as before chains existed.
                continue;
            }

            LoadSlot(name, version, folder, () => LoadChain(repository, name, version, folder, sessionSettings, batching), cancellationToken);
        }
    }

    private ServedModel LoadChain(string repository, string name, string version, string folder, ModelSessionSettings sessionSettings, BatchingSettings batching)
    {
        var configPath = Path.Combine(folder, RepositoryLayout.ConfigFileName);
        var config = ModelConfigFile.Read(configPath)!;
        var steps = new List<ChainStepSource>();
        foreach (var step in config.Steps ?? [])
        {
            var stepFolder = RepositoryLayout.FindStepFolder(repository, step)
                ?? throw new InvalidDataException($"{configPath}: step '{step}' is not a model of the repository (models are named <name> or <name>/<version>).");
            steps.Add(new ChainStepSource(step, stepFolder, null));
        }

        return ServedModel.LoadChain(name, version, steps, sessionSettings, config.DynamicBatching?.Apply(batching, configPath) ?? batching, telemetry);
    }

    private void LoadSlot(string name, string version, string folder, Func<ServedModel> load, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var started = Stopwatch.GetTimestamp();
        ModelSlot slot;
        try
        {
            var model = load();
            slot = new ModelSlot(name, version, model, null);
            LogLoaded(name, version, string.Join(", ", model.Inputs.Select(i => i.Name)), string.Join(", ", model.Outputs.Select(o => o.Name)), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            slot = new ModelSlot(name, version, null, e.Message);
            LogLoadFailed(e, name, version, folder);
        }

        _slots[(name, version)] = slot;
        if (slot.Model is not null)
        {
            _latestVersions.AddOrUpdate(name, version, (_, current) => CompareVersions(version, current) > 0 ? version : current);
        }
    }

    /// <summary>Every configured model was tried: ready from now on while at least one serves.</summary>
    public void CompleteLoading(string sources)
    {
        _loadingComplete = true;
        if (!IsReady)
        {
            LogNothingServed(sources);
        }
    }

    /// <summary>
    /// Serves <paramref name="model"/> as <paramref name="name"/>/<paramref name="version"/> and makes it the
    /// default version, atomically for callers: a request finds either the old version or the new one.
    /// Callers that pin an earlier version (a router's <c>version: "1"</c>) keep being served: the
    /// <c>ModelHost:RetainPreviousVersions</c> most recent earlier versions stay; older ones are retired and
    /// released when their requests in flight finish.
    /// </summary>
    public void Publish(string name, string version, ServedModel model)
    {
        var retired = new List<ServedModel>();
        lock (_publishLock)
        {
            if (_slots.TryGetValue((name, version), out var replaced) && replaced.Model is { } same && !ReferenceEquals(same, model))
            {
                retired.Add(same);
            }

            _slots[(name, version)] = new ModelSlot(name, version, model, null);
            if (!_published.TryGetValue(name, out var order))
            {
                // A version served before the first publish (loaded from the repository) is the oldest.
                order = _latestVersions.TryGetValue(name, out var previous) && previous != version ? [previous] : [];
                _published[name] = order;
            }

            order.Remove(version);
            order.Add(version);
            _latestVersions[name] = version;
            while (order.Count > 1 + options.Value.RetainPreviousVersions)
            {
                if (_slots.TryRemove((name, order[0]), out var old) && old.Model is not null)
                {
                    retired.Add(old.Model);
                }

                order.RemoveAt(0);
            }
        }

        foreach (var old in retired)
        {
            old.Retire();
        }
    }

    /// <summary>
    /// Stops serving an earlier version (an explicit unload); the default version cannot be unloaded, only
    /// replaced by publishing another.
    /// </summary>
    public UnloadOutcome Unload(string name, string version)
    {
        ServedModel? retired;
        lock (_publishLock)
        {
            if (_latestVersions.TryGetValue(name, out var latest) && latest == version)
            {
                return UnloadOutcome.DefaultVersion;
            }

            if (!_slots.TryRemove((name, version), out var slot))
            {
                return UnloadOutcome.NotFound;
            }

            if (_published.TryGetValue(name, out var order))
            {
                order.Remove(version);
            }

            retired = slot.Model;
        }

        retired?.Retire();
        return UnloadOutcome.Unloaded;
    }

    /// <summary>Records why a model could not be loaded, unless a version of it is already served.</summary>
    public void PublishFailure(string name, string version, string error)
    {
        if (!_latestVersions.ContainsKey(name))
        {
            _slots[(name, version)] = new ModelSlot(name, version, null, error);
        }
    }

    /// <summary>Finds a model version; an empty version means the highest loaded version.</summary>
    public bool TryFind(string name, string version, out ModelSlot? slot)
    {
        if (string.IsNullOrEmpty(version))
        {
            if (_latestVersions.TryGetValue(name, out var latest))
            {
                return _slots.TryGetValue((name, latest), out slot);
            }

            // No loaded version: a failed one still explains itself.
            slot = _slots.Values.Where(s => s.Name == name).OrderByDescending(s => s.Version, Comparer<string>.Create(CompareVersions)).FirstOrDefault();
            return slot is not null;
        }

        return _slots.TryGetValue((name, version), out slot);
    }

    public IReadOnlyList<string> VersionsOf(string name) =>
        [.. _slots.Values.Where(s => s.Name == name && s.Model is not null).Select(s => s.Version).Order(Comparer<string>.Create(CompareVersions))];

    public IReadOnlyList<string> ModelNames() =>
        [.. _slots.Keys.Select(k => k.Name).Distinct().Order(StringComparer.Ordinal)];

    public void Dispose()
    {
        foreach (var slot in _slots.Values)
        {
            slot.Model?.Dispose();
        }
    }

    // Numeric versions compare as numbers (10 > 9); anything else falls back to ordinal order.
    private static int CompareVersions(string? left, string? right) =>
        long.TryParse(left, out var l) && long.TryParse(right, out var r) ? l.CompareTo(r) : string.CompareOrdinal(left, right);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded model {Model} version {Version} (inputs {Inputs}; outputs {Outputs}) in {ElapsedMs:F0} ms")]
    private partial void LogLoaded(string model, string version, string inputs, string outputs, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model} version {Version} in {Folder} failed to load; the other models are served")]
    private partial void LogLoadFailed(Exception exception, string model, string version, string folder);

    [LoggerMessage(Level = LogLevel.Critical, Message = "No model from {Sources} could be loaded; the host is not ready until one is")]
    private partial void LogNothingServed(string sources);
}
