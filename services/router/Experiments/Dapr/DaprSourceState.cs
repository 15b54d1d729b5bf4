namespace Mesh.Router.Experiments.Dapr;

/// <summary>Whether the subscription to the store is live, for /health; written by the subscriber only.</summary>
internal sealed class DaprSourceState
{
    private volatile string? _lostReason;

    public string? LostReason => _lostReason;

    public void Connected() => _lostReason = null;

    public void Lost(string reason) => _lostReason = reason;
}
