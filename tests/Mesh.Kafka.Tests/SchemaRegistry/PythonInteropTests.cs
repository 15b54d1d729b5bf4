namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>
/// Confluent's Python protobuf serializer and deserializer (Debian's python3-confluent-kafka), with classes protoc
/// generates from the repository's protos as examples/python/generate.sh does, against the same stand-in registry:
/// a reader and a writer nobody here wrote.
/// </summary>
public sealed class PythonInteropTests
{
    private static readonly TimeSpan s_processTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task PythonDeserializer_PredictionsWeFramed_ReadsEveryFieldAndResolvesTheSchema()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var predictions = Enumerable.Range(0, 3).Select(i => new Prediction
        {
            RequestId = $"req-{i}",
            EntityId = $"entity-{i}",
            Experiment = "iris-ab",
            Arm = i % 2 == 0 ? "logreg" : "boosted",
            ModelName = "iris-logreg",
            ModelVersion = "3",
            Output = new PredictionOutput { Label = "setosa", Scores = { 0.75f, 0.25f }, ClassNames = { "setosa", "versicolor" } },
            Shadow = i == 2,
            AssignmentProbability = 0.5,
            PolicyVersion = "ab-1",
            Latency = new Latency { QueueMs = 1.5, InferenceMs = 0.25, EndToEndMs = 2.5 },
            TraceId = "d3a78234cb236fd7bf8b3024042e7783",
            EventTime = Timestamp.FromDateTime(new DateTime(2026, 12, 1, 12, 0, i, DateTimeKind.Utc)),
            Fallback = i == 1,
            Context = { ["mesh.strategy"] = "ab" },
        }).ToArray();
        var input = Path.GetTempFileName();
        await File.WriteAllLinesAsync(input, predictions.Select(p => Convert.ToHexString(fixture.Writer.Encode("predictions", p))));
        var id = (await fixture.Client.GetLatestSchemaAsync("predictions-value")).Id;

        var (exit, output, error) = await RunPythonAsync("read-predictions", fixture.Registry.Url, "predictions", "--input", input);
        File.Delete(input);

        Assert.True(exit == 0, $"confluent_interop.py exited {exit}: {error}");
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            var expected = predictions[i];
            Assert.Equal(expected.RequestId, row.GetProperty("request_id").GetString());
            Assert.Equal(expected.EntityId, row.GetProperty("entity_id").GetString());
            Assert.Equal(expected.Experiment, row.GetProperty("experiment").GetString());
            Assert.Equal(expected.Arm, row.GetProperty("arm").GetString());
            Assert.Equal(expected.ModelName, row.GetProperty("model_name").GetString());
            Assert.Equal(expected.ModelVersion, row.GetProperty("model_version").GetString());
            Assert.Equal("setosa", row.GetProperty("output").GetProperty("label").GetString());
            Assert.Equal([0.75, 0.25], row.GetProperty("output").GetProperty("scores").EnumerateArray().Select(s => s.GetDouble()));
            Assert.Equal(["setosa", "versicolor"], row.GetProperty("output").GetProperty("class_names").EnumerateArray().Select(s => s.GetString()));
            Assert.Equal(expected.Shadow, row.TryGetProperty("shadow", out var shadow) && shadow.GetBoolean());
            Assert.Equal(expected.Fallback, row.TryGetProperty("fallback", out var fallback) && fallback.GetBoolean());
            Assert.Equal(0.5, row.GetProperty("assignment_probability").GetDouble());
            Assert.Equal("ab-1", row.GetProperty("policy_version").GetString());
            Assert.Equal(2.5, row.GetProperty("latency").GetProperty("end_to_end_ms").GetDouble());
            Assert.Equal(expected.TraceId, row.GetProperty("trace_id").GetString());
            Assert.Equal($"2026-12-01T12:00:0{i}Z", row.GetProperty("event_time").GetString());
            Assert.Equal("ab", row.GetProperty("context").GetProperty("mesh.strategy").GetString());
            Assert.Equal(id, row.GetProperty("_schema_id").GetInt32());
            Assert.Equal("mesh/v1/predictions.proto", row.GetProperty("_schema_file").GetString());
            Assert.Equal("Prediction", row.GetProperty("_schema_messages")[0].GetString());
            Assert.Equal(["google/protobuf/timestamp.proto"], row.GetProperty("_references").EnumerateArray().Select(r => r.GetString()));
        }
    }

    [Fact]
    public async Task PythonSerializer_FeatureRecords_OurReaderChecksTheirSchemaAndReadsEveryField()
    {
        await using var fixture = await RegistryFixture.StartAsync();

        var (exit, output, error) = await RunPythonAsync("write-features", fixture.Registry.Url, "features", "--count", "3");

        Assert.True(exit == 0, $"confluent_interop.py exited {exit}: {error}");
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Convert.FromHexString).ToArray();
        Assert.Equal(3, values.Length);
        Assert.All(values, v => Assert.True(ConfluentWireFormat.IsFramed(v)));
        Assert.Contains("features-value", fixture.Registry.Store.Subjects());
        var records = values.Select(v => fixture.Reader.Decode<FeatureRecord>("features", v)).ToArray();
        for (var i = 0; i < records.Length; i++)
        {
            Assert.Equal($"py-{i}", records[i].RequestId);
            Assert.Equal($"entity-{i}", records[i].EntityId);
            Assert.Equal("iris", records[i].FeatureSet);
            Assert.Equal([5.0f, 3.5f, 1.25f, i], records[i].Values);
            Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], records[i].Names);
            Assert.Equal("python", records[i].Context["writer"]);
            Assert.Equal(1764590400 + i, records[i].EventTime.Seconds);
        }

        // Their schema names another message: our reader refuses it as a Label.
        Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<Label>("features", values[0]));
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunPythonAsync(string mode, string url, string topic, params string[] more)
    {
        var generated = Path.Combine(Path.GetTempPath(), "mesh-sr-python-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(generated);
        try
        {
            var protos = Path.Combine(TestRepository.Root, "protos");
            var protoc = await ExternalProcess.RunAsync("protoc", ["-I", protos, "-I", "/usr/include", "--python_out=" + generated,
                .. Directory.GetFiles(Path.Combine(protos, "mesh", "v1"), "*.proto")], s_processTimeout);
            Assert.True(protoc.ExitCode == 0, "protoc failed: " + protoc.Error);
            var script = Path.Combine(TestRepository.Root, "tests", "Mesh.Kafka.Tests", "SchemaRegistry", "confluent_interop.py");
            return await ExternalProcess.RunAsync(ExternalProcess.Python, [script, mode, "--url", url, "--topic", topic, "--generated", generated, .. more], s_processTimeout);
        }
        finally
        {
            Directory.Delete(generated, recursive: true);
        }
    }
}
