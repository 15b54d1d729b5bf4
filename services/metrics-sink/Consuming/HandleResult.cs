using Mesh.Contracts.V1;
using Mesh.MetricsSink.Aggregation;

namespace Mesh.MetricsSink.Consuming;

/// <summary>The result of handling one record: applied to the join state, or undecodable with the reason.</summary>
internal readonly record struct HandleResult(bool Applied, bool IsLabel, JoinOutcome Outcome, string Error)
{
    public static HandleResult Undecodable(string error) => new(false, false, default, error);

    /// <summary>A record of the dead-letter topic: never dead-lettered again, whatever it holds.</summary>
    public bool IsDeadLetter { get; init; }

    /// <summary>The router's dead letter, when one was counted.</summary>
    public DeadLetter? DeadLetter { get; init; }
}
