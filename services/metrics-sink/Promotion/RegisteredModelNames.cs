using System.Collections.Concurrent;
using Mesh.Contracts.V1;
using Mesh.Mlflow;

namespace Mesh.MetricsSink.Promotion;

/// <summary>
/// The MLflow model URI an arm's served model comes from (the run tag <c>mesh.model_uri</c>), and the registered
/// model it names: a served name need not be a registered name (a host serves <c>models:/iris@challenger</c> as
/// <c>iris-challenger</c>), and moving <c>@champion</c> on a served name swaps no host. The URI comes from the
/// experiment spec through each Prediction (<c>model_uri</c>, the arm's <c>modelUri</c>), so the sink reads no router
/// file and follows a spec from a file or from Dapr alike; <c>MetricsSink:ModelUris</c>, when it names the served model,
/// overrides it (and serves routers that predate the field).
/// </summary>
internal sealed class RegisteredModelNames(PromotionOptions options)
{
    private readonly ConcurrentDictionary<string, string> _fromPredictions = new(StringComparer.Ordinal);

    /// <summary>Learns the URI a Prediction says its served model comes from; the latest wins, as a reload would.</summary>
    public void Observe(Prediction prediction)
    {
        if (prediction.ModelUri.Length == 0 || prediction.ModelName.Length == 0)
        {
            return;
        }

        // Read first: the same answer arrives with every record, and a write per record would contend for nothing.
        if (!_fromPredictions.TryGetValue(prediction.ModelName, out var known) || !string.Equals(known, prediction.ModelUri, StringComparison.Ordinal))
        {
            _fromPredictions[prediction.ModelName] = prediction.ModelUri;
        }
    }

    /// <summary>The configured URI of <paramref name="served"/>, else the spec's, else <c>models:/&lt;served&gt;/&lt;version&gt;</c>.</summary>
    public string ModelUri(string served, string version)
    {
        if (options.ModelUris.TryGetValue(served, out var configured) && !string.IsNullOrWhiteSpace(configured))
        {
            return configured.Trim();
        }

        return _fromPredictions.TryGetValue(served, out var fromSpec) ? fromSpec : $"models:/{served}/{version}";
    }

    /// <summary>The registered model of an arm, or null when its URI names none (a run or a logged model).</summary>
    public string? RegisteredName(string served, string version) =>
        MlflowModelUri.TryParse(ModelUri(served, version), out var uri, out _)
        && uri!.Kind is MlflowModelUriKind.Alias or MlflowModelUriKind.Version or MlflowModelUriKind.Latest
            ? uri.Name
            : null;
}
