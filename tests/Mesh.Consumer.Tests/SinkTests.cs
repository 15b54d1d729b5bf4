namespace Mesh.Consumer.Tests;

public sealed class SinkTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "consumer-sinks-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _time = new();

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Write_FieldsFromANewerProto_KeepsThemInTheJsonLine()
    {
        var lines = new MemoryLineSink();
        using var sink = new LinePredictionSink(lines, PredictionLineFormat.Json);
        var newer = new CodedOutputStreamBuilder().Field(99, "tomorrow's field").Build();
        var raw = Records.Prediction("r1").ToByteArray().Concat(newer).ToArray();

        sink.Write(Prediction.Parser.ParseFrom(raw), raw);
        sink.Flush(force: false);

        var line = Assert.Single(lines.Flushed);
        using var json = JsonDocument.Parse(line);
        Assert.Equal(newer, Convert.FromBase64String(json.RootElement.GetProperty(PredictionLineFormatter.UnknownFieldsName).GetString()!));
        Assert.Equal("r1", PredictionLineFormatter.Parse(line).RequestId);
    }

    [Fact]
    public void Write_OnlyKnownFields_AddsNoUnknownFieldsProperty()
    {
        var lines = new MemoryLineSink();
        using var sink = new LinePredictionSink(lines, PredictionLineFormat.Json);
        var raw = Records.Prediction("r1").ToByteArray();

        sink.Write(Prediction.Parser.ParseFrom(raw), raw);
        sink.Flush(force: false);

        Assert.DoesNotContain(PredictionLineFormatter.UnknownFieldsName, Assert.Single(lines.Flushed), StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_ValuesWithCommasAndQuotes_AreQuotedPerRfc4180()
    {
        var prediction = Records.Prediction("r,1");
        prediction.Arm = "say \"hi\"";

        var row = PredictionCsv.Format(prediction);

        Assert.StartsWith("\"r,1\",entity-3,iris-ab,\"say \"\"hi\"\"\",iris-logreg,1,false,false,setosa,0,0.9 0.05 0.05,setosa versicolor virginica,0.5,w1,0.5,1.25,2.5,2026-01-02T03:04:05.0000000Z,,", row, StringComparison.Ordinal);
        Assert.Equal(20, PredictionCsv.Header.Split(',').Length);
    }

    [Fact]
    public void RollingFile_BySize_StartsNewFilesEachWithTheCsvHeaderAndLosesNoLine()
    {
        var sink = new RollingFileSink(Path.Combine(_dir, "out.csv"), maxBytes: 1000, TimeSpan.Zero, fsync: true, PredictionCsv.Header, _time);
        for (var i = 0; i < 30; i++)
        {
            sink.WriteLine(PredictionCsv.Format(Records.Prediction($"r{i}")));
            sink.Flush();
        }

        sink.Dispose();

        var files = Directory.GetFiles(_dir, "out-*.csv").Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 2, $"expected several files, got {files.Count}");
        Assert.All(files, f => Assert.Equal(PredictionCsv.Header, File.ReadLines(f).First()));
        var ids = files.SelectMany(f => File.ReadLines(f).Skip(1)).Select(l => l.Split(',')[0]);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"r{i}"), ids);
    }

    [Fact]
    public void RollingFile_WithFsync_FsyncsTheDirectoryOfEachNewFile()
    {
        var sink = new RollingFileSink(Path.Combine(_dir, "out.jsonl"), maxBytes: 10, TimeSpan.Zero, fsync: true, null, _time);
        for (var i = 0; i < 3; i++)
        {
            sink.WriteLine($"line number {i}");
            sink.Flush();
        }

        sink.Dispose();

        Assert.Equal(3, Directory.GetFiles(_dir, "out-*.jsonl").Length);
        Assert.Equal(OperatingSystem.IsLinux() ? 3 : 0, sink.DirectorySyncs);
    }

    [Fact]
    public void RollingFile_WithoutFsync_LeavesTheDirectoryAlone()
    {
        var sink = new RollingFileSink(Path.Combine(_dir, "out.jsonl"), 0, TimeSpan.Zero, fsync: false, null, _time);
        sink.WriteLine("a");
        sink.Flush();
        sink.Dispose();

        Assert.Equal(0, sink.DirectorySyncs);
    }

    [Fact]
    public void DirectorySync_MissingDirectory_Throws()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Directory.CreateDirectory(_dir);
        Assert.True(DirectorySync.Flush(_dir));
        Assert.Throws<IOException>(() => DirectorySync.Flush(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void RollingFile_ByTime_RollsOnlyAtAFlushAfterTheInterval()
    {
        var sink = new RollingFileSink(Path.Combine(_dir, "p.jsonl"), 0, TimeSpan.FromSeconds(60), fsync: false, null, _time);
        sink.WriteLine("a");
        sink.Flush();
        var first = sink.CurrentPath;
        _time.Advance(TimeSpan.FromSeconds(30));
        sink.WriteLine("b");
        sink.Flush();
        Assert.Equal(first, sink.CurrentPath);
        _time.Advance(TimeSpan.FromSeconds(31));
        sink.WriteLine("c");
        sink.Flush();
        Assert.Null(sink.CurrentPath);
        sink.WriteLine("d");
        sink.Flush();
        sink.Dispose();

        var files = Directory.GetFiles(_dir).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, files.Count);
        Assert.Equal(["a", "b", "c"], File.ReadAllLines(files[0]));
        Assert.Equal(["d"], File.ReadAllLines(files[1]));
    }

    [Fact]
    public async Task Parquet_BeforeTheRoll_IsNotDurableAndReleasesNoOffset_ThenWritesOneReadableFile()
    {
        var sink = new ParquetPredictionSink(Path.Combine(_dir, "preds.parquet"), 0, TimeSpan.FromSeconds(60), _time);
        var handler = new PredictionRecordHandler(sink, new OffsetTracker());
        for (var i = 0; i < 5; i++)
        {
            handler.TryHandle(Records.Consumed("p", 0, i, Records.Prediction($"r{i}")), out _);
        }

        var early = handler.Flush();
        _time.Advance(TimeSpan.FromSeconds(61));
        var rolled = handler.Flush();

        Assert.Empty(early);
        Assert.Equal([new Confluent.Kafka.TopicPartitionOffset("p", 0, 5)], rolled);
        var file = Assert.Single(sink.Written);
        Assert.Empty(Directory.GetFiles(_dir, ".*.tmp"));
        // The rename reached the directory on disk too.
        Assert.Equal(OperatingSystem.IsLinux() ? 1 : 0, sink.DirectorySyncs);
        await using var stream = File.OpenRead(file);
        var rows = (await ParquetSerializer.DeserializeAsync<PredictionRow>(stream)).Data;
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"r{i}"), rows.Select(r => r.RequestId));
        Assert.Equal([0.9f, 0.05f, 0.05f], rows[0].Scores);
        Assert.Equal(2.5, rows[0].EndToEndMs);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), rows[0].EventTime);
    }

    [Fact]
    public void Writer_FilterByArm_WritesOnlyThatArmAndStillReleasesSkippedOffsets()
    {
        var lines = new MemoryLineSink();
        var handler = new PredictionRecordHandler(new LinePredictionSink(lines, PredictionLineFormat.Json), new OffsetTracker(), new PredictionFilter([], ["boosted"], []));
        for (var i = 0; i < 6; i++)
        {
            var prediction = Records.Prediction($"r{i}");
            prediction.Arm = i % 3 == 0 ? "boosted" : "logreg";
            handler.TryHandle(Records.Consumed("p", 0, i, prediction), out _);
        }

        var released = handler.Flush();

        Assert.Equal(["r0", "r3"], lines.Flushed.Select(l => PredictionLineFormatter.Parse(l).RequestId));
        Assert.Equal([new Confluent.Kafka.TopicPartitionOffset("p", 0, 6)], released);
        Assert.Equal(4, handler.Filtered);
    }

    [Fact]
    public void LiveTable_Predictions_ShowsEachArmWithItsShare()
    {
        var terminal = new StringWriter();
        using var sink = new LiveTableSink(terminal, _time);
        for (var i = 0; i < 4; i++)
        {
            var prediction = Records.Prediction($"r{i}");
            prediction.Arm = i == 0 ? "boosted" : "logreg";
            sink.Write(prediction, []);
        }

        Assert.True(sink.Flush(force: false));

        var screen = terminal.ToString();
        Assert.Contains("4 predictions", screen, StringComparison.Ordinal);
        Assert.Matches(@"boosted\s+primary\s+iris-logreg v1\s+1\s+25\.0 ?%", screen);
        Assert.Matches(@"logreg\s+primary\s+iris-logreg v1\s+3\s+75\.0 ?%", screen);
    }

    /// <summary>Wire bytes of fields a newer Prediction might carry.</summary>
    private sealed class CodedOutputStreamBuilder
    {
        private readonly MemoryStream _stream = new();
        private readonly CodedOutputStream _output;

        public CodedOutputStreamBuilder() => _output = new CodedOutputStream(_stream);

        public CodedOutputStreamBuilder Field(int number, string value)
        {
            _output.WriteTag(number, WireFormat.WireType.LengthDelimited);
            _output.WriteString(value);
            return this;
        }

        public byte[] Build()
        {
            _output.Flush();
            return _stream.ToArray();
        }
    }
}
