namespace Mesh.Cli.PolicyEvaluation;

/// <summary>One estimator's estimate of a candidate's mean reward, with its standard error and confidence interval.</summary>
internal sealed record PolicyEstimate(string Estimator, double Value, double StandardError, double Lower, double Upper);
