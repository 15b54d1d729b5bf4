using Mesh.Router.Options;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Experiments;

/// <summary>
/// Parses the experiment spec <c>Router:ExperimentFile</c> names at start, so a router with a bad spec refuses to
/// start with a message that names the spec field. Beside <see cref="RouterOptionsValidator"/>, which checks the
/// settings themselves; both run at start and their messages are reported together.
/// </summary>
internal sealed class ExperimentFileValidator : IValidateOptions<RouterOptions>
{
    public ValidateOptionsResult Validate(string? name, RouterOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ExperimentFile))
        {
            return ValidateOptionsResult.Success;
        }

        var errors = ExperimentSpecLoader.Load(options.ExperimentFile).Errors;
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
