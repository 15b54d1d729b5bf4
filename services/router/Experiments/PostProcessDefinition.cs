namespace Mesh.Router.Experiments;

/// <summary>
/// An arm's <c>postProcess:</c>: what the router does to the model's answer before the Prediction is written, in
/// this order: a decision threshold on one class's score, then top-k of the scores, then label mapping.
/// </summary>
internal sealed class PostProcessDefinition
{
    public ThresholdDefinition? Threshold { get; set; }

    /// <summary>Keep only the k best scores (with their class names), best first.</summary>
    public int? TopK { get; set; }

    /// <summary>Renames classes (in the label and the class names): model class name to the name written.</summary>
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>The definition as one line, so an arm whose post-processing changes gets a new runtime.</summary>
    public string Key() =>
        $"{Threshold?.Class}\u001f{Threshold?.Score}\u001f{Threshold?.Otherwise}\u001f{TopK}\u001f" +
        string.Join("\u001f", (Labels ?? []).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));
}
