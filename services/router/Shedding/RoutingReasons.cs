namespace Mesh.Router.Shedding;

/// <summary>The values of a Prediction's <c>routing_reason</c> (empty: the experiment's policy chose the arm).</summary>
internal static class RoutingReasons
{
    /// <summary>Lag-aware shedding sent the record to the fallback arm (the champion) instead of a challenger.</summary>
    public const string Shed = "shed";
}
