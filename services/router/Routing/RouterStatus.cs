namespace Mesh.Router.Routing;

internal enum RouterStatus
{
    Starting,
    Consuming,
    Stopping,
    Failed,
}
