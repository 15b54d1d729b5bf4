namespace Mesh.Router.Inference;

/// <summary>
/// How one list of feature names a record carries maps onto a model's columns: <see cref="Columns"/>[c] is the index in
/// the record's values of the model's column c (null when the record's order already is the model's), or why it cannot.
/// </summary>
internal sealed record FeatureMap(int[]? Columns, string? Problem)
{
    public static readonly FeatureMap Identity = new(null, null);

    public bool IsMapped => Problem is null;
}
