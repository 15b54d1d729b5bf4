using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Mesh.ModelHost.Telemetry;

namespace Mesh.ModelHost.Models;

/// <summary>
/// The served MLflow models whose URI stopped resolving (a deleted alias, an unreachable server) while their
/// version keeps serving: reported as a gauge and on <c>/health</c>, and marked only on change so a poll does
/// not report the same thing again.
/// </summary>
internal sealed class UnresolvedModels
{
    private readonly ConcurrentDictionary<string, (string Version, string Reason)> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);

    public UnresolvedModels(IMeterFactory meterFactory)
    {
        // The factory hands back the service's one Meter for this name.
        meterFactory.Create(ModelHostTelemetry.Name).CreateObservableGauge(
            "mesh.model_host.mlflow.unresolved", Observe, "{model}", "1 while a served MLflow model's URI does not resolve; its version keeps serving.");
    }

    public IReadOnlyList<(string Model, string Version, string Reason)> Snapshot =>
        [.. _models.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => (m.Key, m.Value.Version, m.Value.Reason))];

    /// <summary>Records why <paramref name="model"/> does not resolve; true when that is news (first time, or another reason).</summary>
    public bool Mark(string model, string version, string reason)
    {
        _known[model] = true;
        var changed = !_models.TryGetValue(model, out var current) || current.Reason != reason;
        _models[model] = (version, reason);
        return changed;
    }

    /// <summary>The model resolves; true when it did not before.</summary>
    public bool Clear(string model)
    {
        _known[model] = true;
        return _models.TryRemove(model, out _);
    }

    private IEnumerable<Measurement<int>> Observe() =>
        _known.Keys.Select(model => new Measurement<int>(_models.ContainsKey(model) ? 1 : 0, new KeyValuePair<string, object?>("model", model)));
}
