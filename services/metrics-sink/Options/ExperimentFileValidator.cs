using Mesh.MetricsSink.Outcomes;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Options;

/// <summary>Refuses a <c>MetricsSink:ExperimentFile</c> that cannot be read or declares outcomes wrongly, naming the path in the file.</summary>
internal sealed class ExperimentFileValidator : IValidateOptions<MetricsSinkOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsSinkOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ExperimentFile))
        {
            return ValidateOptionsResult.Success;
        }

        return OutcomeSpecReader.Read(options.ExperimentFile, out var errors) is null
            ? ValidateOptionsResult.Fail($"MetricsSink:ExperimentFile ({options.ExperimentFile}): {string.Join("; ", errors)}")
            : ValidateOptionsResult.Success;
    }
}
