namespace Mesh.Cli.PolicyEvaluation;

/// <summary>Settings of the estimators: the interval's z (1.96 for 95 %) and the propensity below which support is called thin.</summary>
internal sealed record EstimatorSettings(double Z = 1.96, double MinPropensity = 0.05);
