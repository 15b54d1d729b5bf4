namespace Mesh.Cli.PolicyEvaluation;

/// <summary>What joining left out, and why, so a user can tell the estimate's base from the traffic's.</summary>
internal sealed record JoinCounts(int Predictions, int Shadow, int Fallback, int OtherExperiments, int BadPropensity, int Duplicates, int Unlabelled, int Decisions);
