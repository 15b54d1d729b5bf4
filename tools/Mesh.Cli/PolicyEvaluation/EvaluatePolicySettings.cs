namespace Mesh.Cli.PolicyEvaluation;

/// <summary>Where <c>mesh evaluate-policy</c> reads logged traffic (a file wins over its topic), and what it evaluates and prints.</summary>
internal sealed record EvaluatePolicySettings(
    Func<string> BootstrapServers,
    string? PredictionsFile,
    string PredictionsTopic,
    string? LabelsFile,
    string LabelsTopic,
    string? Experiment,
    IReadOnlyList<CandidateFactory> Candidates,
    RewardKind Reward,
    EstimatorSettings Estimators,
    bool Json,
    string MlflowExperiment);
