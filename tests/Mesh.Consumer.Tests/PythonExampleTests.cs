namespace Mesh.Consumer.Tests;

/// <summary>
/// examples/python/read_predictions.py as a data team runs it: Debian's python3-confluent-kafka and classes
/// protoc generates from the repository's protos, against the test broker.
/// </summary>
public sealed class PythonExampleTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_processTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ReadPredictions_FilteredByArm_PrintsEachPredictionAsJsonAndSkipsGarbage()
    {
        var topic = await cluster.CreateFreshTopicAsync(1, "predictions");
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            // The undecodable record comes first, so the reader meets it before it has printed enough.
            producer.Produce(topic, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = [0xFF, 0x01, 0xFF] });
            for (var i = 0; i < 20; i++)
            {
                var prediction = Records.Prediction($"req-{i}");
                prediction.Arm = i % 2 == 0 ? "logreg" : "boosted";
                producer.Produce(topic, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = prediction.ToByteArray(), Headers = MeshHeaders.Create<Prediction>(null) });
            }

            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var example = Path.Combine(TestRepository.Root, "examples", "python");
        var generated = Path.Combine(Path.GetTempPath(), "mesh-python-" + Guid.NewGuid().ToString("N"));
        var generate = await RunAsync("/bin/sh", [Path.Combine(example, "generate.sh"), generated]);
        Assert.True(generate.ExitCode == 0, "generate.sh failed: " + generate.Error);

        var read = await RunAsync(Python(),
        [
            Path.Combine(example, "read_predictions.py"),
            "--bootstrap-servers", cluster.BootstrapServers,
            "--topic", topic,
            "--group", "python-example-" + Guid.NewGuid().ToString("N"),
            "--from-beginning",
            "--arm", "boosted",
            "--max-messages", "10",
            "--timeout", "90",
            "--generated", generated,
        ]);
        Directory.Delete(generated, recursive: true);

        Assert.True(read.ExitCode == 0, $"read_predictions.py exited {read.ExitCode}: {read.Error}");
        var rows = read.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(10, rows.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"req-{2 * i + 1}"), rows.Select(r => r.GetProperty("request_id").GetString()));
        Assert.All(rows, r =>
        {
            Assert.Equal("boosted", r.GetProperty("arm").GetString());
            Assert.Equal("iris-ab", r.GetProperty("experiment").GetString());
            Assert.Equal("setosa", r.GetProperty("output").GetProperty("label").GetString());
            Assert.Equal(2.5, r.GetProperty("latency").GetProperty("end_to_end_ms").GetDouble());
            Assert.Equal(topic, r.GetProperty("_topic").GetString());
        });
        Assert.Contains($"skipped {topic}[0]@0: not a mesh.v1.Prediction", read.Error, StringComparison.Ordinal);
    }

    // Debian installs its Python packages for the system interpreter, not for a pyenv python3 first on PATH.
    private static string Python() => Environment.GetEnvironmentVariable("MESH_PYTHON") is { Length: > 0 } python ? python : "/usr/bin/python3";

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + file);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_processTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, await output, $"{file} did not finish within {s_processTimeout}: " + await error);
        }

        return (process.ExitCode, await output, await error);
    }
}
