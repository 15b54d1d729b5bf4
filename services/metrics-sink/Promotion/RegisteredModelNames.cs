using Mesh.Mlflow;

namespace Mesh.MetricsSink.Promotion;

/// <summary>
/// The MLflow model URI an arm's served model comes from (the run tag <c>mesh.model_uri</c>), and the registered
/// model it names: a served name need not be a registered name (a host serves <c>models:/iris@challenger</c> as
/// <c>iris-challenger</c>), and moving <c>@champion</c> on a served name swaps no host.
/// </summary>
internal static class RegisteredModelNames
{
    /// <summary>The configured URI of <paramref name="served"/>, else <c>models:/&lt;served&gt;/&lt;version&gt;</c>.</summary>
    public static string ModelUri(PromotionOptions options, string served, string version) =>
        options.ModelUris.TryGetValue(served, out var uri) && !string.IsNullOrWhiteSpace(uri) ? uri.Trim() : $"models:/{served}/{version}";

    /// <summary>The registered model of an arm, or null when its URI names none (a run or a logged model).</summary>
    public static string? RegisteredName(PromotionOptions options, string served, string version) =>
        MlflowModelUri.TryParse(ModelUri(options, served, version), out var uri, out _)
        && uri!.Kind is MlflowModelUriKind.Alias or MlflowModelUriKind.Version or MlflowModelUriKind.Latest
            ? uri.Name
            : null;
}
