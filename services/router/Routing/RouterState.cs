namespace Mesh.Router.Routing;

/// <summary>Where the consume loop is, for <c>/health</c>: a router waiting for its model hosts is not ready.</summary>
internal sealed class RouterState
{
    private volatile RouterStatus _status = RouterStatus.Starting;

    public RouterStatus Status => _status;

    public void Set(RouterStatus status) => _status = status;
}
