namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// One decision the logging policy made, joined with its outcome: the arm it chose, with which probability,
/// the reward that followed, and what the chosen model itself expected (its score for the class it predicted,
/// when it logged scores and the reward is correctness).
/// </summary>
internal sealed record LoggedDecision(string RequestId, string Arm, double Propensity, double Reward, double? ModelExpectedReward = null);
