namespace Mesh.Router.Tests;

/// <summary>
/// Tests that read a router's <c>/metrics</c> run on their own, after the parallel ones. Run beside the project's other
/// tests, a router was twice seen with none of its Kafka series on <c>/metrics</c> (the same test passed alone). Our
/// reading, not confirmed: every router in the test process has meters of the same names ("Mesh.Router",
/// "Mesh.Kafka"), and an OpenTelemetry meter provider listens to every meter of its names in the process, so routers
/// alive at once can see each other's instruments. One process runs one service in production.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "router /metrics";
}
