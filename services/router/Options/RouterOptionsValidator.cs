using Microsoft.Extensions.Options;

namespace Mesh.Router.Options;

/// <summary>
/// Checks the router's settings at start, so a router with a bad setting refuses to start with a message that names
/// it. The experiment spec the settings point at is checked by <c>Experiments/ExperimentFileValidator</c>: options
/// are read by the experiments, not the other way round.
/// </summary>
internal sealed class RouterOptionsValidator : IValidateOptions<RouterOptions>
{
    public ValidateOptionsResult Validate(string? name, RouterOptions options)
    {
        var errors = new List<string>();
        var batching = options.Batching;
        if (batching.MaxBatchSize is < 1 or > 100_000)
        {
            errors.Add($"Router:Batching:MaxBatchSize must be between 1 and 100000 (was {batching.MaxBatchSize}).");
        }

        if (batching.MaxDelayMs is <= 0 or > 10_000 || double.IsNaN(batching.MaxDelayMs))
        {
            errors.Add($"Router:Batching:MaxDelayMs must be greater than 0 and at most 10000 (was {batching.MaxDelayMs}).");
        }

        if (batching.MaxInFlightBatches is < 1 or > 1024)
        {
            errors.Add($"Router:Batching:MaxInFlightBatches must be between 1 and 1024 (was {batching.MaxInFlightBatches}).");
        }

        if (batching.CallTimeoutMs is < 1 or > 600_000)
        {
            errors.Add($"Router:Batching:CallTimeoutMs must be between 1 and 600000 (was {batching.CallTimeoutMs}).");
        }

        // ValidateDataAnnotations does not descend into nested sections.
        foreach (var section in new object[] { options.Shadow, options.CircuitBreaker, options.Bandit, options.Backpressure, options.ExactlyOnce, options.Features, options.Deduplication, options.Shedding })
        {
            var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
            System.ComponentModel.DataAnnotations.Validator.TryValidateObject(section, new(section), results, validateAllProperties: true);
            errors.AddRange(results.Select(r => r.ErrorMessage ?? "Router: invalid setting."));
        }

        errors.AddRange(options.Shedding.OrderErrors());

        if (options.Admin.Token is { Length: > 0 } token && token.Length < 16)
        {
            errors.Add("Router:Admin:Token must be at least 16 characters (or empty to turn the admin API off).");
        }

        if (!string.IsNullOrWhiteSpace(options.Admin.GrpcUrl) &&
            (!Uri.TryCreate(options.Admin.GrpcUrl, UriKind.Absolute, out var grpcUrl) || grpcUrl.Scheme is not ("http" or "https")))
        {
            errors.Add($"Router:Admin:GrpcUrl must be an absolute http:// or https:// URL (was '{options.Admin.GrpcUrl}').");
        }

        if (!string.IsNullOrWhiteSpace(options.Bandit.Redis))
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(options.Bandit.Redis);
            }
            catch (ArgumentException e)
            {
                errors.Add($"Router:Bandit:Redis is not a Redis configuration string: {e.Message}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
