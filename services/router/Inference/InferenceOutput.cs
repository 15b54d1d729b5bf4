namespace Mesh.Router.Inference;

/// <summary>The per-row answers of one ModelInfer call, in the request's row order.</summary>
internal sealed class InferenceOutput(string[] labels, float[] scores, int classCount, string[] classNames, string modelName, string modelVersion)
{
    public int Rows => labels.Length;

    public string ModelName => modelName;

    public string ModelVersion => modelVersion;

    public int ClassCount => classCount;

    public IReadOnlyList<string> ClassNames => classNames;

    public string LabelOf(int row) => labels[row];

    /// <summary>The row's class scores, in the order of <see cref="ClassNames"/>; empty when the model gave none.</summary>
    public ReadOnlySpan<float> ScoresOf(int row) => scores.AsSpan(row * classCount, classCount);
}
