namespace Mesh.Cli.Tests;

/// <summary>The bench's mean records per ModelInfer call comes from the router's own histogram, summed over arms.</summary>
public sealed class BatchSizeProbeTests
{
    [Fact]
    public void Mean_TwoReadsOfAnExpositionWithTwoArms_RecordsPerCallInBetween()
    {
        var before = BatchSizeProbe.Parse(Exposition(sumA: 100, countA: 10, sumB: 50, countB: 5));
        var after = BatchSizeProbe.Parse(Exposition(sumA: 100 + 640, countA: 10 + 10, sumB: 50 + 320, countB: 5 + 10));

        // 960 records in 20 calls.
        Assert.Equal(48.0, BatchSizeProbe.Mean(before, after));
    }

    [Fact]
    public void Parse_NoRouterHistogram_Null()
    {
        Assert.Null(BatchSizeProbe.Parse("# TYPE mesh_model_host_batch_size histogram\nmesh_model_host_batch_size_sum 5\n"));
        Assert.Null(BatchSizeProbe.Mean(null, (1, 1)));
    }

    private static string Exposition(double sumA, double countA, double sumB, double countB) => $"""
        # TYPE mesh_router_batch_size histogram
        mesh_router_batch_size_bucket{"{"}experiment="e",arm="a",le="64"{"}"} {countA}
        mesh_router_batch_size_sum{"{"}experiment="e",arm="a"{"}"} {sumA}
        mesh_router_batch_size_count{"{"}experiment="e",arm="a"{"}"} {countA}
        mesh_router_batch_size_sum{"{"}experiment="e",arm="b"{"}"} {sumB}
        mesh_router_batch_size_count{"{"}experiment="e",arm="b"{"}"} {countB}
        """;
}
