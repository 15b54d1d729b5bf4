using Microsoft.Extensions.Options;

namespace Mesh.ModelHost.Options;

/// <summary>
/// Refuses to start on a repository that cannot serve anything: a host that starts with no model
/// would look healthy to the orchestrator while answering every request with NOT_FOUND.
/// </summary>
internal sealed class ModelRepositoryValidator : IValidateOptions<ModelHostOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelHostOptions options)
    {
        // DataAnnotations on the options do not reach nested sections.
        var batchingErrors = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options.Batching, new(options.Batching), batchingErrors, validateAllProperties: true))
        {
            return ValidateOptionsResult.Fail(batchingErrors.Select(e => e.ErrorMessage ?? "ModelHost:Batching is invalid."));
        }

        if (ModelHostOptions.ParseGraphOptimizationLevel(options.GraphOptimizationLevel) is null)
        {
            return ValidateOptionsResult.Fail(
                $"ModelHost:GraphOptimizationLevel: '{options.GraphOptimizationLevel}' is not one of Disabled, Basic, Extended, All.");
        }

        if (string.IsNullOrWhiteSpace(options.ModelRepository))
        {
            // DataAnnotations reports the missing value.
            return ValidateOptionsResult.Skip;
        }

        var repository = options.ResolveModelRepository();
        if (!Directory.Exists(repository))
        {
            return ValidateOptionsResult.Fail(
                $"ModelHost:ModelRepository: the folder '{repository}' does not exist (train the demo models with `mesh train` or set ModelHost:ModelRepository).");
        }

        if (!RepositoryLayout.FindModelFiles(repository).Any())
        {
            return ValidateOptionsResult.Fail(
                $"ModelHost:ModelRepository: the folder '{repository}' has no model (expected <model-name>/<version>/model.onnx).");
        }

        return ValidateOptionsResult.Success;
    }
}
