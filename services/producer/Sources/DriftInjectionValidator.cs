using Mesh.Producer.Options;
using Microsoft.Extensions.Options;

namespace Mesh.Producer.Sources;

/// <summary>
/// Checks <c>Producer:Drift</c> at start, as far as it can be known before the source is read: the shift, the start
/// record, and the feature's name for the synthetic source or listed feature columns (a file's own header is checked
/// when it is read, by <see cref="MeanShift.For"/>).
/// </summary>
internal sealed class DriftInjectionValidator : IValidateOptions<ProducerOptions>
{
    public ValidateOptionsResult Validate(string? name, ProducerOptions options)
    {
        var drift = options.Drift;
        if (!drift.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!double.IsFinite(drift.Shift) || drift.Shift == 0 || Math.Abs(drift.Shift) > 1000)
        {
            failures.Add($"Producer:Drift:Shift must be a non-zero number of standard deviations between -1000 and 1000 (was {drift.Shift}).");
        }

        if (drift.AfterRecords < 0)
        {
            failures.Add($"Producer:Drift:AfterRecords must not be negative (was {drift.AfterRecords}).");
        }

        IReadOnlyList<string>? known = options.ResolveFormat() == SourceFormat.Synthetic ? SyntheticFeatureSource.FeatureNames
            : options.Columns.Features?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (known is { Count: > 0 } && !known.Contains(drift.Feature!.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            failures.Add($"Producer:Drift:Feature '{drift.Feature}' is not one of the source's features ({string.Join(", ", known)}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
