namespace Mesh.MetricsSink.Tests;

/// <summary>
/// What the window, verdict and drift tests each start from: a clock the test moves, meters of the test's own (the
/// sink's instruments of tests running beside it are not heard) and a tracking folder that goes with the test.
/// </summary>
internal sealed class SinkTestBench(string folderPrefix) : IDisposable
{
    public ManualTimeProvider Time { get; } = new();

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), folderPrefix + Guid.NewGuid().ToString("N"));

    public ServiceProvider Services { get; } = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose()
    {
        Services.Dispose();
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}
