namespace Mesh.Kafka.Tests;

public sealed class BootstrapResolverTests
{
    [Fact]
    public void Resolve_ConfiguredServers_WinOverTheFile()
    {
        var options = new KafkaOptions { BootstrapServers = " broker:9092 ", BootstrapFile = "/nonexistent" };

        Assert.Equal("broker:9092", BootstrapResolver.Resolve(options));
    }

    [Fact]
    public void Resolve_NoServers_ReadsTheEmbeddedBrokersFile()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "127.0.0.1:40000\n");
        try
        {
            Assert.Equal("127.0.0.1:40000", BootstrapResolver.Resolve(new KafkaOptions { BootstrapFile = file, BootstrapWaitSeconds = 0 }));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Resolve_NothingConfigured_ThrowsNamingBothSettings()
    {
        var options = new KafkaOptions { BootstrapFile = "/nonexistent/bootstrap.servers", BootstrapWaitSeconds = 0 };

        var error = Assert.Throws<InvalidOperationException>(() => BootstrapResolver.Resolve(options));

        Assert.Contains("Kafka:BootstrapServers", error.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/bootstrap.servers", error.Message, StringComparison.Ordinal);
    }
}
