using System.Collections.Concurrent;

namespace Mesh.Router.Inference;

/// <summary>
/// A model's input columns by feature name, and the map from each distinct list of names records carry onto them:
/// built once per list and cached, so a record costs a lookup, not a dictionary of its own.
/// </summary>
internal sealed class FeatureOrder(string[] names)
{
    // Producers send a handful of distinct lists; the bound keeps a stream of ever-new lists from growing the cache.
    private const int MaxCachedLists = 256;

    private readonly ConcurrentDictionary<IReadOnlyList<string>, FeatureMap> _maps = new(FeatureNamesComparer.Instance);

    /// <summary>The model's columns, in order.</summary>
    public IReadOnlyList<string> Names => names;

    public bool SameAs(FeatureOrder? other) => other is not null && FeatureNamesComparer.Instance.Equals(names, other.Names);

    /// <summary>The map of a record's <paramref name="recordNames"/> onto the model's columns.</summary>
    public FeatureMap Map(IReadOnlyList<string> recordNames)
    {
        if (_maps.TryGetValue(recordNames, out var map))
        {
            return map;
        }

        map = Build(recordNames);
        if (_maps.Count < MaxCachedLists)
        {
            _maps.TryAdd([.. recordNames], map);
        }

        return map;
    }

    private FeatureMap Build(IReadOnlyList<string> recordNames)
    {
        for (var i = 0; i < recordNames.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(recordNames[i], recordNames[j], StringComparison.Ordinal))
                {
                    return new FeatureMap(null, $"the record names feature '{recordNames[i]}' twice.");
                }
            }
        }

        if (FeatureNamesComparer.Instance.Equals(names, recordNames))
        {
            return FeatureMap.Identity;
        }

        var columns = new int[names.Length];
        for (var c = 0; c < names.Length; c++)
        {
            columns[c] = -1;
            for (var i = 0; i < recordNames.Count; i++)
            {
                if (string.Equals(names[c], recordNames[i], StringComparison.Ordinal))
                {
                    columns[c] = i;
                    break;
                }
            }

            if (columns[c] < 0)
            {
                return new FeatureMap(null, $"the record's names lack feature '{names[c]}'.");
            }
        }

        return new FeatureMap(columns, null);
    }
}
