using System.Globalization;
using System.Text;
using Mesh.Router.Hashing;

namespace Mesh.Router.Experiments;

/// <summary>
/// Sticky weighted assignment: the entity id's stable hash picks one of <see cref="BucketCount"/> buckets, and
/// the arms own contiguous bucket ranges in proportion to their weights. An entity therefore keeps its arm for
/// as long as the weights stay, and a weight change moves only the entities whose bucket changes owner.
/// </summary>
internal sealed class ArmAssigner
{
    public const int BucketCount = 10_000;

    private readonly int[] _upperBounds;
    private readonly double[] _probabilities;
    private readonly uint _saltHash;

    /// <param name="salt">
    /// The experiment name: two experiments over the same entities then split them independently instead of
    /// putting the same entities in the first arm of both.
    /// </param>
    public ArmAssigner(string salt, IReadOnlyList<double> weights)
    {
        ArgumentOutOfRangeException.ThrowIfZero(weights.Count);
        var total = 0.0;
        foreach (var weight in weights)
        {
            // 0 switches an arm off (through the admin API): it gets no bucket.
            ArgumentOutOfRangeException.ThrowIfNegative(weight);
            total += weight;
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total, nameof(weights));

        _upperBounds = new int[weights.Count];
        _probabilities = new double[weights.Count];
        var cumulative = 0.0;
        for (var i = 0; i < weights.Count; i++)
        {
            cumulative += weights[i];
            _upperBounds[i] = i == weights.Count - 1 ? BucketCount : (int)Math.Round(cumulative / total * BucketCount);
            _probabilities[i] = weights[i] / total;
        }

        _saltHash = StableHash.AppendUtf8(StableHash.Seed, salt + "/");
        PolicyVersion = ComputePolicyVersion(salt, weights);
    }

    /// <summary>A hash of the weights: records assigned under the same weights share it, so they can be replayed offline.</summary>
    public string PolicyVersion { get; }

    public int ArmCount => _upperBounds.Length;

    /// <summary>The probability that a random entity lands in <paramref name="arm"/>: its weight share.</summary>
    public double ProbabilityOf(int arm) => _probabilities[arm];

    public int BucketOf(string entityId) => (int)(StableHash.AppendUtf8(_saltHash, entityId) % BucketCount);

    public int ArmOfBucket(int bucket)
    {
        for (var i = 0; i < _upperBounds.Length; i++)
        {
            if (bucket < _upperBounds[i])
            {
                return i;
            }
        }

        return _upperBounds.Length - 1;
    }

    /// <summary>The arm index for an entity.</summary>
    public int Assign(string entityId) => ArmOfBucket(BucketOf(entityId));

    private static string ComputePolicyVersion(string salt, IReadOnlyList<double> weights)
    {
        var text = new StringBuilder("ab:").Append(salt);
        foreach (var weight in weights)
        {
            text.Append(';').Append(weight.ToString("R", CultureInfo.InvariantCulture));
        }

        return "ab-" + StableHash.AppendUtf8(StableHash.Seed, text.ToString()).ToString("x8", CultureInfo.InvariantCulture);
    }
}
