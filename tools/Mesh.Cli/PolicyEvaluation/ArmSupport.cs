namespace Mesh.Cli.PolicyEvaluation;

/// <summary>How well the logged traffic covers one arm the candidate or the logging policy uses.</summary>
internal sealed record ArmSupport(string Arm, double CandidateProbability, int Logged, double MinPropensity, double MeanReward);
