namespace Mesh.Router.Inference;

/// <summary>Compares lists of feature names element by element (ordinal), so a record's names find their cached map without a copy.</summary>
internal sealed class FeatureNamesComparer : IEqualityComparer<IReadOnlyList<string>>
{
    public static readonly FeatureNamesComparer Instance = new();

    public bool Equals(IReadOnlyList<string>? x, IReadOnlyList<string>? y)
    {
        if (ReferenceEquals(x, y))
        {
            return true;
        }

        if (x is null || y is null || x.Count != y.Count)
        {
            return false;
        }

        for (var i = 0; i < x.Count; i++)
        {
            if (!string.Equals(x[i], y[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public int GetHashCode(IReadOnlyList<string> names)
    {
        var hash = new HashCode();
        for (var i = 0; i < names.Count; i++)
        {
            hash.Add(names[i], StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }
}
