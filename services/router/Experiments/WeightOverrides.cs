using System.Globalization;

namespace Mesh.Router.Experiments;

/// <summary>
/// Weights set through the admin API, remembered with the file's weight of the arm at that time, so a reload keeps
/// an override as long as the file still says what it said when the override was made (a changed file weight is a
/// newer decision and wins). Used under the registry's change lock only.
/// </summary>
internal sealed class WeightOverrides
{
    private Dictionary<(string Experiment, string Arm), (double Weight, double FileWeight)> _overrides = new();
    private Dictionary<(string Experiment, string Arm), double> _fileWeights = new();
    private Dictionary<(string Experiment, string Arm), (double Weight, double FileWeight)>? _stagedOverrides;
    private Dictionary<(string Experiment, string Arm), double>? _stagedFileWeights;

    /// <summary>Remembers an API-set weight against the weight the file gave the arm.</summary>
    public void Set(string experiment, string arm, double weight, double currentWeight)
    {
        var fileWeight = _fileWeights.TryGetValue((experiment, arm), out var file) ? file : currentWeight;
        _overrides[(experiment, arm)] = (weight, fileWeight);
    }

    /// <summary>
    /// Puts the overrides that still hold into a freshly loaded <paramref name="spec"/> and returns them as
    /// <c>experiment/arm=weight</c>; the change takes effect with <see cref="Commit"/> once the spec is in force.
    /// </summary>
    public IReadOnlyList<string> ApplyTo(ExperimentSpec spec)
    {
        var kept = new List<string>();
        var overrides = new Dictionary<(string Experiment, string Arm), (double Weight, double FileWeight)>();
        var fileWeights = new Dictionary<(string Experiment, string Arm), double>();
        foreach (var experiment in spec.Experiments)
        {
            foreach (var arm in experiment.Arms)
            {
                var key = (experiment.Name, arm.Name);
                fileWeights[key] = arm.Weight;
                if (_overrides.TryGetValue(key, out var set) && set.FileWeight == arm.Weight)
                {
                    arm.Weight = set.Weight;
                    overrides[key] = set;
                    kept.Add($"{experiment.Name}/{arm.Name}={set.Weight.ToString(CultureInfo.InvariantCulture)}");
                }
            }
        }

        _stagedOverrides = overrides;
        _stagedFileWeights = fileWeights;
        return kept;
    }

    public void Commit()
    {
        _overrides = _stagedOverrides ?? _overrides;
        _fileWeights = _stagedFileWeights ?? _fileWeights;
        _stagedOverrides = null;
        _stagedFileWeights = null;
    }
}
