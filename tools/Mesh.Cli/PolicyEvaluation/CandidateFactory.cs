namespace Mesh.Cli.PolicyEvaluation;

/// <summary>A candidate to evaluate; built from the decisions, since a bandit's next move depends on what it has seen.</summary>
internal delegate CandidatePolicy CandidateFactory(IReadOnlyList<LoggedDecision> decisions);
