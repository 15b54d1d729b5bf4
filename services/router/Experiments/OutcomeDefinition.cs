namespace Mesh.Router.Experiments;

/// <summary>
/// One outcome an experiment declares (<c>outcomes:</c>): the metrics sink aggregates it per arm and validates it
/// (docs/outcomes.md); the router takes it so the file it shares with the sink still loads.
/// </summary>
internal sealed class OutcomeDefinition
{
    public string Name { get; set; } = "";

    /// <summary><c>mean</c>, <c>sum</c> or <c>rate</c>.</summary>
    public string Aggregate { get; set; } = "";

    public double? RewardScale { get; set; }
}
