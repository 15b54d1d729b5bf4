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

        // The same floor as the router's admin token: a short bearer token is guessed, and it swaps models.
        if (!string.IsNullOrEmpty(options.AdminToken) && options.AdminToken.Length < ModelHostOptions.MinAdminTokenLength)
        {
            return ValidateOptionsResult.Fail(
                $"ModelHost:AdminToken must be at least {ModelHostOptions.MinAdminTokenLength} characters (it has {options.AdminToken.Length}); leave it unset to turn admin calls off.");
        }

        if (ValidateMlflow(options.Mlflow) is { } mlflowError)
        {
            return ValidateOptionsResult.Fail(mlflowError);
        }

        if (options.Mlflow.Models.Count > 0)
        {
            // MLflow models are served; the repository folder is optional then.
            return ValidateOptionsResult.Success;
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

    private static string? ValidateSteps(MlflowModelOptions model, int i)
    {
        if (!string.IsNullOrWhiteSpace(model.Uri))
        {
            return $"ModelHost:Mlflow:Models:{i}: set Uri (one model) or Steps (a chain), not both.";
        }

        if (model.Steps.Count < 2)
        {
            return $"ModelHost:Mlflow:Models:{i}:Steps: a chain needs two steps or more (one model is set with Uri).";
        }

        for (var k = 0; k < model.Steps.Count; k++)
        {
            if (!Mesh.Mlflow.MlflowModelUri.TryParse(model.Steps[k], out _, out var error))
            {
                return $"ModelHost:Mlflow:Models:{i}:Steps:{k}: {error}.";
            }
        }

        return string.IsNullOrWhiteSpace(model.Name)
            ? $"ModelHost:Mlflow:Models:{i}:Name is required for a chain of Steps (the name to serve it under)."
            : null;
    }

    private static string? ValidateMlflow(MlflowSourceOptions mlflow)
    {
        if (mlflow.PollSeconds is < 0 or > 86400)
        {
            return "ModelHost:Mlflow:PollSeconds must be between 0 and 86400.";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < mlflow.Models.Count; i++)
        {
            var model = mlflow.Models[i];
            string name;
            if (model.Steps.Count > 0)
            {
                if (ValidateSteps(model, i) is { } stepsError)
                {
                    return stepsError;
                }

                name = model.Name!.Trim();
            }
            else
            {
                if (!Mesh.Mlflow.MlflowModelUri.TryParse(model.Uri, out var uri, out var error))
                {
                    return $"ModelHost:Mlflow:Models:{i}:Uri: {error}.";
                }

                name = string.IsNullOrWhiteSpace(model.Name) ? uri!.Name : model.Name.Trim();
                if (name.Length == 0)
                {
                    return $"ModelHost:Mlflow:Models:{i}:Name is required for a runs:/ or models:/m-<model-id> URI (the name to serve the model under).";
                }
            }

            if (!names.Add(name))
            {
                return $"ModelHost:Mlflow:Models:{i}: the name '{name}' is served twice; set ModelHost:Mlflow:Models:{i}:Name.";
            }
        }

        if (mlflow.Models.Count == 0)
        {
            return null;
        }

        if (!string.IsNullOrWhiteSpace(mlflow.TrackingUri)
            && !(Uri.TryCreate(mlflow.TrackingUri.Trim(), UriKind.Absolute, out var tracking) && (tracking.Scheme == Uri.UriSchemeHttp || tracking.Scheme == Uri.UriSchemeHttps)))
        {
            return $"ModelHost:Mlflow:TrackingUri '{mlflow.TrackingUri}' is not an http(s) URL of an MLflow tracking server.";
        }

        try
        {
            return mlflow.ClientOptions().TrackingUri is null
                ? "ModelHost:Mlflow:Models are set but no tracking server is: set MLFLOW_TRACKING_URI or ModelHost:Mlflow:TrackingUri."
                : null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}
