using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Rewards;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Tests;

/// <summary>Bandit rewards in the hash the router's bandits read, against a real redis-server the test starts.</summary>
public sealed class BanditRewardWriterTests : IAsyncLifetime
{
    private Process? _redis;
    private ConnectionMultiplexer _connection = null!;

    public async Task InitializeAsync()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        _redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start (apt-get install redis-server)");
        _redis.OutputDataReceived += (_, _) => { };
        _redis.BeginOutputReadLine();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                _connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
                return;
            }
            catch (RedisConnectionException) when (attempt < 300 && !_redis.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public Task DisposeAsync()
    {
        _connection?.Dispose();
        if (_redis is { HasExited: false })
        {
            _redis.Kill();
            _redis.WaitForExit(10_000);
        }

        _redis?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task WriteAsync_TwoWrites_AddsTrialsAndSuccessesInTheRoutersFormatOnce()
    {
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromMinutes(10), 1000);
        var writer = new BanditRewardWriter(joiner, _connection, Microsoft.Extensions.Options.Options.Create(new MetricsSinkOptions { BanditKeyPrefix = "test:bandit:" }),
            TimeProvider.System, NullLogger<BanditRewardWriter>.Instance);
        for (var i = 0; i < 10; i++)
        {
            joiner.AddPrediction(Make.Prediction($"a{i}", arm: "logreg", predicted: i < 7 ? "setosa" : "virginica"));
            joiner.AddPrediction(Make.Prediction($"a{i}", arm: "candidate", shadow: true));
            joiner.AddLabel(Make.Label($"a{i}", "setosa"));
        }

        // A label still missing is no trial yet.
        joiner.AddPrediction(Make.Prediction("pending", arm: "boosted"));

        Assert.True(await writer.WriteAsync(CancellationToken.None));
        joiner.AddPrediction(Make.Prediction("b1", arm: "boosted", predicted: "setosa"));
        joiner.AddLabel(Make.Label("b1", "setosa"));
        Assert.True(await writer.WriteAsync(CancellationToken.None));
        Assert.True(await writer.WriteAsync(CancellationToken.None));

        var hash = (await _connection.GetDatabase().HashGetAllAsync("test:bandit:iris-ab")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        Assert.Equal(new Dictionary<string, string>
        {
            ["logreg:n"] = "10",
            ["logreg:s"] = "7",
            ["boosted:n"] = "1",
            ["boosted:s"] = "1",
        }, hash);
    }
}
