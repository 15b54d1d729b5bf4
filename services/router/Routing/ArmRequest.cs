using Mesh.Router.Experiments;

namespace Mesh.Router.Routing;

/// <summary>
/// One record on its way to one arm, with the probability, policy version and prediction context its assignment was
/// made with (they change when weights or bandit state change, so they travel with the record, not with the arm).
/// <paramref name="Columns"/> maps the arm's model columns to the record's values by feature name (null: the record's own order).
/// <paramref name="RoutingReason"/> says why the record is here when the policy did not choose the arm (shedding).
/// </summary>
internal readonly record struct ArmRequest(
    RoutedRecord Record,
    double Probability,
    string PolicyVersion,
    PredictionContext Context,
    EnsembleJoin? Join = null,
    int Member = 0,
    int[]? Columns = null,
    string RoutingReason = "");
