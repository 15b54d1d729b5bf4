using System.Security.Cryptography;
using System.Text;
using Mesh.Contracts.V1;
using Mesh.Router.Experiments;
using Mesh.Router.Options;
using Mesh.Router.Resilience;
using Mesh.Router.Routing;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Admin;

/// <summary>
/// What the admin API does, shared by its gRPC and HTTP/JSON faces. Throws <see cref="KeyNotFoundException"/>
/// for an unknown experiment or arm, <see cref="ArgumentException"/> for a bad request and
/// <see cref="InvalidOperationException"/> when a reload fails.
/// </summary>
internal sealed class AdminOperations(ExperimentRegistry registry, IOptions<RouterOptions> options)
{
    private const string BearerPrefix = "Bearer ";

    /// <summary>Whether the admin API is on (a token is configured).</summary>
    public bool Enabled => !string.IsNullOrEmpty(options.Value.Admin.Token);

    /// <summary>Checks an <c>Authorization</c> header against the configured token in constant time.</summary>
    public bool IsAuthorized(string? authorization)
    {
        var token = options.Value.Admin.Token;
        if (string.IsNullOrEmpty(token) || authorization is null || !authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var presented = Encoding.UTF8.GetBytes(authorization[BearerPrefix.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(token));
    }

    public string RefusalReason => Enabled
        ? "a bearer token (Router:Admin:Token) is required: Authorization: Bearer <token>"
        : "the admin API is off: Router:Admin:Token is not set";

    public ListExperimentsResponse List()
    {
        var response = new ListExperimentsResponse();
        response.Experiments.AddRange(registry.Current.All.Select(ToStatus));
        return response;
    }

    public ExperimentStatus Get(string name) =>
        ToStatus(registry.Current.Find(name) ?? throw new KeyNotFoundException($"There is no experiment '{name}'."));

    public async Task<ExperimentStatus> SetWeightsAsync(SetWeightsRequest request, CancellationToken cancellationToken)
    {
        if (request.Weights.Count == 0)
        {
            throw new ArgumentException("weights: name at least one arm and its new weight.");
        }

        return ToStatus(await registry.SetWeightsAsync(request.Experiment, request.Weights, cancellationToken));
    }

    public async Task RecordRewardAsync(RecordRewardRequest request, CancellationToken cancellationToken)
    {
        var experiment = registry.Current.Find(request.Experiment) ?? throw new KeyNotFoundException($"There is no experiment '{request.Experiment}'.");
        if (experiment.Bandit is not { } bandit)
        {
            throw new ArgumentException($"Experiment '{request.Experiment}' is not a bandit; only bandits take rewards.");
        }

        var arm = bandit.Arms.ToList().IndexOf(request.Arm);
        if (arm < 0)
        {
            throw new KeyNotFoundException($"Experiment '{request.Experiment}' has no arm '{request.Arm}'.");
        }

        if (!(request.Reward is >= 0 and <= 1))
        {
            throw new ArgumentException($"reward must be between 0 and 1 (was {request.Reward}).");
        }

        await bandit.AddRewardAsync(arm, request.Reward, cancellationToken);
    }

    public async Task<ListExperimentsResponse> ReloadAsync(CancellationToken cancellationToken)
    {
        var outcome = await registry.ReloadFromFileAsync(options.Value.ExperimentFile, force: true, cancellationToken);
        var response = List();
        response.KeptWeightOverrides.AddRange(outcome.KeptWeightOverrides);
        return response;
    }

    private static ExperimentStatus ToStatus(ExperimentRuntime experiment)
    {
        var status = new ExperimentStatus
        {
            Name = experiment.Name,
            Strategy = experiment.Definition.Strategy,
            PolicyVersion = experiment.PolicyVersion,
            InputTopic = experiment.InputTopic,
            Fallback = experiment.Fallback?.Identity.Arm ?? "",
        };
        for (var i = 0; i < experiment.Arms.Count; i++)
        {
            var arm = ToArmStatus(experiment.Arms[i], experiment.Definition.Arms[i].Weight, experiment.ProbabilityOf(i));
            if (experiment.Bandit is { } bandit)
            {
                arm.Observations = bandit.States[i].Observations;
                arm.RewardMean = bandit.States[i].Mean;
            }

            status.Arms.Add(arm);
        }

        status.Shadows.AddRange(experiment.Shadows.Select(s => ToArmStatus(s, 0, 1)));
        return status;
    }

    private static ArmStatus ToArmStatus(ArmRuntime arm, double weight, double probability) => new()
    {
        Name = arm.Identity.Arm,
        Weight = weight,
        Probability = probability,
        Endpoint = arm.Identity.Endpoint,
        Model = arm.Identity.Model,
        Version = arm.Identity.Version,
        Circuit = arm.Breaker.State switch
        {
            CircuitState.Open => "open",
            CircuitState.HalfOpen => "half-open",
            _ => "closed",
        },
    };
}
