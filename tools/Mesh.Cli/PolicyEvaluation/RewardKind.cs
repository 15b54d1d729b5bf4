namespace Mesh.Cli.PolicyEvaluation;

/// <summary>What counts as the reward: the prediction matching the label (1/0), or the label's numeric outcome.</summary>
internal enum RewardKind
{
    Correct,
    Numeric,
}
