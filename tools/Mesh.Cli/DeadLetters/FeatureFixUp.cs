using System.Globalization;
using Mesh.Contracts.V1;

namespace Mesh.Cli.DeadLetters;

/// <summary>
/// A named repair of a dead-lettered FeatureRecord, for the faults the router rejects records for: names that
/// disagree with the feature set, context it cannot use, and values that are not finite numbers.
/// </summary>
internal sealed class FeatureFixUp
{
    private readonly Action<FeatureRecord> _apply;

    private FeatureFixUp(string name, Action<FeatureRecord> apply)
    {
        Name = name;
        _apply = apply;
    }

    public const string Names = "drop-names, drop-context, replace-non-finite=<number>";

    public string Name { get; }

    public void Apply(FeatureRecord record) => _apply(record);

    public static FeatureFixUp Parse(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var name = (equals < 0 ? text : text[..equals]).Trim().ToLowerInvariant();
        var argument = equals < 0 ? null : text[(equals + 1)..].Trim();
        return name switch
        {
            "drop-names" when argument is null => new FeatureFixUp(name, r => r.Names.Clear()),
            "drop-context" when argument is null => new FeatureFixUp(name, r => r.Context.Clear()),
            "replace-non-finite" => ReplaceNonFinite(argument ?? "0", text),
            _ => throw new FormatException($"--fix '{text}' is not a known fix-up ({Names})."),
        };
    }

    private static FeatureFixUp ReplaceNonFinite(string argument, string text)
    {
        if (!float.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
        {
            throw new FormatException($"--fix '{text}': the replacement must be a finite number.");
        }

        return new FeatureFixUp($"replace-non-finite={value.ToString(CultureInfo.InvariantCulture)}", r =>
        {
            for (var i = 0; i < r.Values.Count; i++)
            {
                if (!float.IsFinite(r.Values[i]))
                {
                    r.Values[i] = value;
                }
            }
        });
    }
}
