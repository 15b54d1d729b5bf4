using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Options;

/// <summary>A malformed MLflow variable stops the service at start, named, like any other bad setting.</summary>
internal sealed class MlflowEnvironmentValidator(IConfiguration configuration) : IValidateOptions<MetricsSinkOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsSinkOptions options)
    {
        try
        {
            MlflowClientOptions.FromEnvironment(key => configuration[key]);
            return ValidateOptionsResult.Success;
        }
        catch (FormatException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
