namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The whole mesh as separate processes: producer → features → router → model host (gRPC) → predictions →
/// consumer and metrics sink, with labels joined, over the Kafka cluster the tests select; once with plain
/// protobuf values, once with a Schema Registry configured (every service writes Confluent's wire format).
/// </summary>
public sealed class MeshEndToEndTests(KafkaTestCluster kafka, ITestOutputHelper output) : IClassFixture<KafkaTestCluster>, IAsyncLifetime
{
    private const int Records = 1000;
    private const int Entities = 200;
    private const string ShadowArm = "candidate";
    private readonly List<ServiceProcess> _services = [];
    private readonly string _work = Directory.CreateTempSubdirectory("mesh-e2e-").FullName;
    private StandInSchemaRegistry? _registry;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Mesh_ThousandIrisRecords_EveryRecordPredictedOnceStickyAccurateJoinedAndBadRecordsDeadLettered(bool schemaRegistry)
    {
        if (schemaRegistry)
        {
            _registry = await StandInSchemaRegistry.StartAsync();
        }

        var topics = await kafka.CreateMeshTopicsAsync(4, "e2e");
        var models = Path.Combine(_work, "models");
        DemoModelTrainer.Train(Path.Combine(Repository.Root, "data", "iris.csv"), models, TextWriter.Null);
        var tracking = Path.Combine(_work, "tracking");
        var consumerFile = Path.Combine(_work, "predictions.jsonl");
        var run = Guid.NewGuid().ToString("N")[..8];

        try
        {
            // The router's spec names the model host's gRPC port: picked before the start, picked again if taken first.
            var grpcPort = 0;
            await StartAsync("model-host", "Mesh.ModelHost", topics, ports =>
            {
                grpcPort = ports.Next();
                return new()
                {
                    ["ModelHost__ModelRepository"] = models,
                    ["Kestrel__Endpoints__Http__Url"] = ports.NextUrl(),
                    ["Kestrel__Endpoints__Grpc__Url"] = LoopbackPorts.Url(grpcPort),
                };
            });
            // With the registry, the experiment has a shadow too, so the shadow-predictions topic is written and checked.
            var experimentFile = WriteExperiment(grpcPort, shadow: schemaRegistry);
            await StartAsync("router", "Mesh.Router", topics, _ => new()
            {
                ["Router__ExperimentFile"] = experimentFile,
                ["Router__GroupId"] = "e2e-router-" + run,
            });
            await StartAsync("metrics-sink", "Mesh.MetricsSink", topics, _ => new()
            {
                ["MetricsSink__TrackingDir"] = tracking,
                ["MetricsSink__GroupId"] = "e2e-sink-" + run,
            });
            await StartAsync("consumer", "Mesh.Consumer", topics, _ => new()
            {
                ["Consumer__Output"] = consumerFile,
                ["Consumer__GroupId"] = "e2e-consumer-" + run,
            });

            // Two records the router cannot use: bytes that are no FeatureRecord, and a record with 3 features
            // for models that take 4. Both must land in the dead-letter topic; nothing else may stop.
            await ProduceBadRecordsAsync(topics.Features);

            var producer = await StartAsync("producer", "Mesh.Producer", topics, _ => new()
            {
                ["Producer__File"] = Path.Combine(Repository.Root, "data", "iris.csv"),
                ["Producer__Count"] = Records.ToString(CultureInfo.InvariantCulture),
                ["Producer__Rate"] = "1000",
                ["Producer__Entities"] = Entities.ToString(CultureInfo.InvariantCulture),
                ["Producer__LabelDelayMs"] = "200",
                ["Producer__Seed"] = "7",
            });
            Assert.Equal(0, await producer.WaitForExitAsync(TimeSpan.FromSeconds(90)));

            var features = ReadDistinct(topics.Features, Records + 2, r => RequestIdOrOffset(r));
            var predictions = ReadDistinct(topics.Predictions, Records, r => Decode<Prediction>(r).RequestId);
            var deadLetters = kafka.ReadAll(topics.DeadLetter, 2, TimeSpan.FromSeconds(30)).Select(r => Decode<DeadLetter>(r)).ToList();
            var summary = await WaitForSummaryAsync(Path.Combine(tracking, "summary.json"), schemaRegistry ? 2 * Records : Records, TimeSpan.FromSeconds(60));

            // Every record predicted exactly once, and only records that were sent.
            var decoded = predictions.Values.Select(r => (Record: r, Prediction: Decode<Prediction>(r))).ToList();
            var sent = features.Where(f => !f.Key.StartsWith("undecodable@", StringComparison.Ordinal)).Select(f => Decode<FeatureRecord>(f.Value)).Where(f => f.Values.Count == 4).ToDictionary(f => f.RequestId);
            Assert.Equal(Records, sent.Count);
            Assert.Equal(Records, decoded.Select(d => d.Prediction.RequestId).Distinct().Count());
            Assert.All(decoded, d => Assert.True(sent.ContainsKey(d.Prediction.RequestId), $"unknown request id {d.Prediction.RequestId}"));

            // Sticky: an entity never changes arm. Shares: the entities' arms fit 50/50 (chi-square, 1 dof, p = 0.001).
            var armsByEntity = decoded.GroupBy(d => d.Prediction.EntityId).ToDictionary(g => g.Key, g => g.Select(d => d.Prediction.Arm).Distinct().ToList());
            Assert.All(armsByEntity, e => Assert.True(e.Value.Count == 1, $"entity {e.Key} saw arms {string.Join(",", e.Value)}"));
            var logreg = armsByEntity.Count(e => e.Value[0] == "logreg");
            var expectedPerArm = armsByEntity.Count / 2.0;
            var chiSquare = (Math.Pow(logreg - expectedPerArm, 2) + Math.Pow(armsByEntity.Count - logreg - expectedPerArm, 2)) / expectedPerArm;
            Assert.True(chiSquare < 10.83, $"arm shares off 50/50: {logreg} of {armsByEntity.Count} entities on logreg (chi-square {chiSquare:F2})");
            Assert.Equal(["boosted", "logreg"], decoded.Select(d => d.Prediction.Arm).Distinct().Order(StringComparer.Ordinal));

            // Predictions carry what data teams and replays need, and the producer's trace continues into them.
            Assert.All(decoded, d =>
            {
                Assert.Equal("iris-ab", d.Prediction.Experiment);
                Assert.Equal(0.5, d.Prediction.AssignmentProbability, 3);
                Assert.Contains(d.Prediction.Output.Label, new[] { "setosa", "versicolor", "virginica" });
                Assert.Equal(3, d.Prediction.Output.Scores.Count);
                var featureTrace = TraceId(features[d.Prediction.RequestId]);
                Assert.NotNull(featureTrace);
                Assert.Equal(featureTrace, TraceId(d.Record));
                Assert.Equal(featureTrace, d.Prediction.TraceId);
            });

            // Bad records were dead-lettered with the reason, and the services kept going.
            Assert.Equal(["decode", "validation"], deadLetters.Select(d => d.ErrorClass).Order(StringComparer.Ordinal));
            Assert.All(deadLetters, d => Assert.Equal(topics.Features, d.SourceTopic));
            Assert.Contains("4", deadLetters.Single(d => d.ErrorClass == "validation").ErrorMessage, StringComparison.Ordinal);

            // The metrics sink joined every prediction (and every shadow's) with its label; the models are accurate on iris.
            Assert.Equal(schemaRegistry ? 2 * Records : Records, summary.Joined);
            var experimentArms = summary.Experiments.Single(e => e.Experiment == "iris-ab").Arms;
            var arms = experimentArms.Where(a => !a.Shadow).ToList();
            Assert.Equal(2, arms.Count);
            Assert.Equal(Records, arms.Sum(a => a.Predictions));
            Assert.All(arms, a => Assert.True(a.Accuracy > 0.9, $"{a.Arm} accuracy {a.Accuracy:F3}"));
            Assert.All(arms, a => Assert.True(a.LatencyP99Ms >= a.LatencyP50Ms && a.LatencyP50Ms > 0, $"{a.Arm} latency p50 {a.LatencyP50Ms} p99 {a.LatencyP99Ms}"));

            // The data teams' consumer wrote every prediction as a JSON line.
            await WaitForAsync(() => CountDistinctRequestIds(consumerFile) >= Records, TimeSpan.FromSeconds(30));
            Assert.Equal(Records, CountDistinctRequestIds(consumerFile));

            // With a registry, what the services wrote is in Confluent's wire format on every topic (the two bad
            // records the test wrote itself stay plain): magic byte 0, the schema id registered for <topic>-value,
            // then message index 0 (FeatureRecord, Prediction, Label and DeadLetter are each their file's first message).
            if (_registry is not null)
            {
                var labels = kafka.ReadAll(topics.Labels, Records, TimeSpan.FromSeconds(30));
                AssertFramed(topics.Features, features.Values.Where(f => f.Message.Value.Length > 0 && f.Message.Value[0] == 0).Take(50), expectedAtLeast: 50);
                AssertFramed(topics.Predictions, predictions.Values.Take(50), expectedAtLeast: 50);
                AssertFramed(topics.Labels, labels.Take(50), expectedAtLeast: 50);
                AssertFramed(topics.DeadLetter, kafka.ReadAll(topics.DeadLetter, 2, TimeSpan.FromSeconds(30)), expectedAtLeast: 2);
                Assert.Equal(Records, features.Values.Count(f => f.Message.Value.Length > 0 && f.Message.Value[0] == 0));

                // The shadow's topic too: every record scored by the shadow, framed, its Prediction parsing after the header.
                var shadows = ReadDistinct(topics.ShadowPredictions, Records, r => Decode<Prediction>(r).RequestId);
                Assert.Equal(Records, shadows.Count);
                AssertFramed(topics.ShadowPredictions, shadows.Values.Take(50), expectedAtLeast: 50);
                Assert.All(shadows.Values.Take(50), r =>
                {
                    var shadow = Prediction.Parser.ParseFrom(r.Message.Value.AsSpan(6));
                    Assert.True(shadow.Shadow, $"{topics.ShadowPredictions}@{r.Offset}: not marked as a shadow prediction");
                    Assert.Equal((ShadowArm, "iris-ab"), (shadow.Arm, shadow.Experiment));
                    Assert.True(sent.ContainsKey(shadow.RequestId), $"unknown request id {shadow.RequestId}");
                    Assert.Contains(shadow.Output.Label, new[] { "setosa", "versicolor", "virginica" });
                });
                var shadowArm = Assert.Single(experimentArms, a => a.Shadow);
                Assert.Equal(Records, shadowArm.Predictions);
                Assert.True(shadowArm.Accuracy > 0.9, $"shadow accuracy {shadowArm.Accuracy:F3}");
            }

            Assert.All(_services.Where(s => s.Name != "producer"), s => Assert.False(s.HasExited, $"{s.Name} exited with {(s.HasExited ? s.ExitCode : 0)}"));
        }
        catch
        {
            foreach (var service in _services)
            {
                output.WriteLine($"===== {service.Name} (exited: {service.HasExited}) =====");
                output.WriteLine(service.Output);
            }

            throw;
        }
    }

    private async Task<ServiceProcess> StartAsync(string folder, string assembly, MeshTopics topics, Func<LoopbackPorts, Dictionary<string, string>> own)
    {
        var service = await Services.StartBoundAsync(folder, folder, assembly, ports => WithMesh(own(ports), topics));
        _services.Add(service);
        return service;
    }

    private Dictionary<string, string> WithMesh(Dictionary<string, string> settings, MeshTopics topics)
    {
        settings.SetMeshEnvironment(kafka.BootstrapServers, topics);
        // The service binds a free port itself; nothing here calls it.
        settings.TryAdd("Urls", LoopbackPorts.Url(0));
        if (_registry is not null)
        {
            settings["Kafka__SchemaRegistry__Url"] = _registry.Url;
        }

        return settings;
    }

    private string WriteExperiment(int grpcPort, bool shadow)
    {
        var path = Path.Combine(_work, "experiments.yaml");
        var spec = ChaosStack.DemoExperiment(grpcPort);
        if (shadow)
        {
            spec += $"""

                    shadows:
                      - name: {ShadowArm}
                        endpoint: http://127.0.0.1:{grpcPort}
                        model: iris-logreg
                        version: "1"
                """;
        }

        File.WriteAllText(path, spec);
        return path;
    }

    private async Task ProduceBadRecordsAsync(string topic)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build();
        var garbage = Encoding.ASCII.GetBytes("\u007f not a FeatureRecord").Prepend((byte)0xFF).ToArray();
        await producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = "bad-entity"u8.ToArray(), Value = garbage });
        var narrow = new FeatureRecord { RequestId = "bad-width", EntityId = "bad-entity", FeatureSet = "iris", Values = { 1f, 2f, 3f } };
        await producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = "bad-entity"u8.ToArray(), Value = narrow.ToByteArray() });
    }

    private Dictionary<string, ConsumeResult<byte[], byte[]>> ReadDistinct(string topic, int expected, Func<ConsumeResult<byte[], byte[]>, string> id)
    {
        var byId = new Dictionary<string, ConsumeResult<byte[], byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (byId.Count < expected && DateTime.UtcNow < deadline)
        {
            foreach (var record in kafka.ReadAll(topic, expected * 2, TimeSpan.FromSeconds(5)))
            {
                byId.TryAdd(id(record), record);
            }
        }

        return byId;
    }

    private static string RequestIdOrOffset(ConsumeResult<byte[], byte[]> record)
    {
        try
        {
            return Decode<FeatureRecord>(record).RequestId;
        }
        catch (InvalidProtocolBufferException)
        {
            return $"undecodable@{record.TopicPartitionOffset}";
        }
    }

    // Framed or plain, as every mesh reader accepts them; the schema itself is checked by the services' readers.
    private static T Decode<T>(ConsumeResult<byte[], byte[]> record)
        where T : Google.Protobuf.IMessage<T>, new() => WireFormatReader.Unchecked.Decode<T>(record.Topic, record.Message.Value);

    private void AssertFramed(string topic, IEnumerable<ConsumeResult<byte[], byte[]>> records, int expectedAtLeast)
    {
        var subject = topic + "-value";
        var versions = _registry!.Store.Versions(subject);
        Assert.True(versions is { Count: > 0 }, $"nothing registered under {subject}");
        var registered = versions!.Select(v => _registry.Store.At(subject, v).Schema).Where(schema => schema is not null).Select(schema => schema!.Id).ToHashSet();
        var checkedCount = 0;
        foreach (var record in records)
        {
            var value = record.Message.Value;
            Assert.True(value.Length > 6 && value[0] == 0, $"{topic}@{record.Offset}: not in the wire format (first byte {(value.Length > 0 ? value[0] : -1)})");
            var id = (value[1] << 24) | (value[2] << 16) | (value[3] << 8) | value[4];
            Assert.Contains(id, registered);
            Assert.Equal(0, value[5]);
            checkedCount++;
        }

        Assert.True(checkedCount >= expectedAtLeast, $"{topic}: only {checkedCount} records checked, expected {expectedAtLeast}");
    }

    private static string? TraceId(ConsumeResult<byte[], byte[]> record)
    {
        var context = MeshHeaders.ExtractTraceContext(record.Message.Headers);
        return context == default ? null : context.TraceId.ToHexString();
    }

    private static async Task<DemoSummary> WaitForSummaryAsync(string path, int joined, TimeSpan timeout)
    {
        DemoSummary? summary = null;
        await WaitForAsync(() => (summary = DemoSummary.TryRead(path)) is { } s && s.Joined >= joined, timeout);
        return summary ?? throw new InvalidOperationException($"No summary at {path}");
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
    }

    private static int CountDistinctRequestIds(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var ids = new HashSet<string>();
        while (reader.ReadLine() is { } line)
        {
            try
            {
                if (line.Length > 0 && JsonDocument.Parse(line).RootElement.TryGetProperty("requestId", out var id))
                {
                    ids.Add(id.GetString()!);
                }
            }
            catch (JsonException)
            {
                // The consumer may be mid-line; the next read sees the whole line.
            }
        }

        return ids.Count;
    }
}
