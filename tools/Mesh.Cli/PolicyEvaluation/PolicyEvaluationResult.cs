namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// What the logged traffic says about a candidate: the estimates, how much the data backs them, and warnings;
/// or, when the candidate needs an arm the logging policy never chose, only <see cref="Refusal"/>.
/// </summary>
internal sealed record PolicyEvaluationResult(
    CandidatePolicy Candidate,
    int Decisions,
    double LoggedValue,
    IReadOnlyList<PolicyEstimate> Estimates,
    double EffectiveSampleSize,
    string RewardModel,
    IReadOnlyList<ArmSupport> Arms,
    IReadOnlyList<string> Warnings,
    string? Refusal)
{
    public static PolicyEvaluationResult Refused(CandidatePolicy candidate, int decisions, IReadOnlyList<ArmSupport> arms, string reason) =>
        new(candidate, decisions, double.NaN, [], 0, "", arms, [], reason);
}
