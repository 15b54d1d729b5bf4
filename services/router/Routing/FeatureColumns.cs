using Mesh.Contracts.V1;
using Mesh.Router.Experiments;

namespace Mesh.Router.Routing;

/// <summary>
/// Which of a record's values go to which of an arm's model columns: by name when the record carries names and the
/// model's features are named (never silently by position), else by position when the count fits.
/// </summary>
internal static class FeatureColumns
{
    /// <summary>
    /// Null when the record fits the arm, with <paramref name="columns"/> the record's index per model column (null:
    /// the record's own order); else why it does not fit. With <paramref name="byPosition"/>, names that cannot be
    /// mapped fall back to position when the value count fits (<c>Router:Features:UnknownNames=by-position</c>).
    /// </summary>
    public static string? Resolve(FeatureRecord feature, ArmRuntime arm, bool byPosition, out int[]? columns)
    {
        columns = null;
        var width = arm.Input.FeatureWidth;
        if (feature.Names.Count > 0 && arm.Features is { } order)
        {
            if (feature.Names.Count != feature.Values.Count)
            {
                return $"the record has {feature.Values.Count} feature values but {feature.Names.Count} names; experiment '{arm.Identity.Experiment}' arm '{arm.Identity.Arm}'.";
            }

            var map = order.Map(feature.Names);
            if (map.IsMapped)
            {
                columns = map.Columns;
                return null;
            }

            if (!byPosition || feature.Values.Count != width)
            {
                return $"{map.Problem!.TrimEnd('.')} (Router:Features:UnknownNames={(byPosition ? "by-position" : "dead-letter")}); experiment '{arm.Identity.Experiment}' " +
                    $"arm '{arm.Identity.Arm}' (model '{arm.Identity.Model}' input '{arm.Input.InputName}') takes {string.Join(", ", order.Names)}.";
            }

            return null;
        }

        return feature.Values.Count == width
            ? null
            : $"the record has {feature.Values.Count} feature values; experiment '{arm.Identity.Experiment}' arm '{arm.Identity.Arm}' " +
              $"(model '{arm.Identity.Model}' input '{arm.Input.InputName}') takes {width}.";
    }
}
