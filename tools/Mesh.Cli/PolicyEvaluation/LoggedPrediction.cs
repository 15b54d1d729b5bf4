using Mesh.Contracts.V1;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>What evaluation needs of a Prediction, whether it came from the topic, a JSON-lines file or a Parquet file.</summary>
internal sealed record LoggedPrediction(
    string RequestId,
    string Experiment,
    string Arm,
    bool Shadow,
    bool Fallback,
    string Label,
    IReadOnlyList<float> Scores,
    double Propensity)
{
    public static LoggedPrediction From(Prediction p) =>
        new(p.RequestId, p.Experiment, p.Arm, p.Shadow, p.Fallback, p.Output?.Label ?? "", p.Output is null ? [] : [.. p.Output.Scores], p.AssignmentProbability);
}
