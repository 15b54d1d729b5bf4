namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>Framing and reading against the stand-in registry, through Confluent's real CachedSchemaRegistryClient.</summary>
public sealed class WireFormatRegistryTests
{
    private static readonly FeatureRecord s_record = new()
    {
        RequestId = "r-1",
        EntityId = "e-1",
        EventTime = Timestamp.FromDateTime(new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc)),
        FeatureSet = "iris",
        Values = { 5.1f, 3.5f, 1.4f, 0.2f },
        Context = { ["source"] = "test" },
    };

    private static readonly Prediction s_cachePrediction = new() { RequestId = "r-1", Arm = "a", ModelName = "iris-logreg" };

    [Fact]
    public async Task Encode_RegistryConfigured_FramesWithTheSubjectsIdByteByByte()
    {
        await using var fixture = await RegistryFixture.StartAsync();

        var value = fixture.Writer.Encode("features", s_record);

        var registered = await fixture.Client.GetLatestSchemaAsync("features-value");
        Assert.Equal(0x00, value[0]);
        Assert.Equal(registered.Id, BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4)));
        Assert.Equal(0x00, value[5]);
        Assert.Equal(s_record.ToByteArray(), value[6..]);
    }

    [Fact]
    public async Task Encode_TwoTopicsInTurn_EachValueCarriesItsOwnSubjectsId()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var prediction = new Prediction { RequestId = "r-1", Experiment = "x" };

        // Alternating, so the header kept from the last value must never answer for the other topic.
        var values = new[]
        {
            fixture.Writer.Encode("features", s_record),
            fixture.Writer.Encode("predictions", prediction),
            fixture.Writer.Encode("features", s_record),
            fixture.Writer.Encode("predictions", prediction),
        };

        var features = (await fixture.Client.GetLatestSchemaAsync("features-value")).Id;
        var predictions = (await fixture.Client.GetLatestSchemaAsync("predictions-value")).Id;
        Assert.NotEqual(features, predictions);
        Assert.Equal([features, predictions, features, predictions], values.Select(v => BinaryPrimitives.ReadInt32BigEndian(v.AsSpan(1, 4))));
        Assert.Equal(prediction.ToByteArray(), values[3][6..]);
    }

    [Fact]
    public async Task Register_FeaturesFile_RegistersItsImportUnderItsPathAndReferencesIt()
    {
        await using var fixture = await RegistryFixture.StartAsync();

        var registered = await fixture.Writer.RegisterAsync(new MeshSchema("features", FeatureRecord.Descriptor), CancellationToken.None);

        var schema = await fixture.Client.GetSchemaAsync(registered.Id, "serialized");
        var reference = Assert.Single(schema.References);
        Assert.Equal(("google/protobuf/timestamp.proto", "google/protobuf/timestamp.proto", 1), (reference.Name, reference.Subject, reference.Version));
        Assert.Equal(FeatureRecord.Descriptor.File.SerializedData.ToBase64(), schema.SchemaString);
        Assert.Equal(["features-value", "google/protobuf/timestamp.proto"], await fixture.Client.GetAllSubjectsAsync());
        Assert.Equal("features-value", registered.Subject);
        Assert.Equal(1, registered.Version);
    }

    [Fact]
    public async Task Encode_RecordNameStrategy_RegistersUnderTheMessagesFullName()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        var options = new Kafka.SchemaRegistry.SchemaRegistryOptions { Url = registry.Url, SubjectNameStrategy = Confluent.SchemaRegistry.SubjectNameStrategy.Record };
        using var client = new Confluent.SchemaRegistry.CachedSchemaRegistryClient(options.ToClientConfig());

        new WireFormatWriter(client, options).Encode("features", s_record);

        Assert.Contains("mesh.v1.FeatureRecord", await client.GetAllSubjectsAsync());
    }

    [Fact]
    public async Task Decode_FramedAndPlainValuesOnOneTopic_ReadsEveryRecord()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var records = Enumerable.Range(0, 6).Select(i => new FeatureRecord(s_record) { RequestId = $"r-{i}" }).ToArray();
        var values = records.Select((r, i) => i % 2 == 0 ? fixture.Writer.Encode("features", r) : r.ToByteArray()).ToArray();

        var decoded = values.Select(v => fixture.Reader.Decode<FeatureRecord>("features", v)).ToArray();

        Assert.Equal(records, decoded);
    }

    [Fact]
    public async Task Decode_ManyRecordsOfOneSchema_AsksTheRegistryOnceAndKeepsReadingWhenItGoesDown()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var value = fixture.Writer.Encode("features", s_record);
        fixture.Reader.Decode<FeatureRecord>("features", value);
        var requests = fixture.Registry.Requests;

        for (var i = 0; i < 100; i++)
        {
            fixture.Reader.Decode<FeatureRecord>("features", fixture.Writer.Encode("features", s_record));
        }

        Assert.Equal(requests, fixture.Registry.Requests);
        await fixture.Registry.StopAsync();
        Assert.Equal(s_record, fixture.Reader.Decode<FeatureRecord>("features", fixture.Writer.Encode("features", s_record)));
    }

    [Fact]
    public async Task Encode_RegistryDownPastTheBoundAndTopicNotYetRegistered_ThrowsNamingTheSubjectAndSettingAndKeepsCachedTopicsWorking()
    {
        await using var fixture = await RegistryFixture.StartAsync(unavailableRetryMs: 300);
        var cached = fixture.Writer.Encode("features", s_record);
        await fixture.Registry.StopAsync();

        var error = Assert.Throws<SchemaRegistryUnavailableException>(() => fixture.Writer.Encode("other-features", s_record));

        Assert.Equal("other-features-value", error.Subject);
        Assert.StartsWith("Kafka:SchemaRegistry:Url:", error.Message);
        Assert.Contains("Kafka:SchemaRegistry:UnavailableRetryMs", error.Message);
        Assert.Equal(cached, fixture.Writer.Encode("features", s_record));
    }

    [Fact]
    public async Task Encode_RegistryRefusingConnectionsThenBackOnItsPort_WaitsAndFramesTheRecordWithTheNewSubjectsId()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var cached = fixture.Writer.Encode("features", s_record);
        await fixture.Registry.StopAsync();

        // The registration starts while the port refuses connections (Confluent's client does not retry those).
        var waiting = Task.Run(() => fixture.Writer.Encode("other-features", s_record));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(cached, fixture.Writer.Encode("features", s_record));
        await fixture.Registry.StartAgainAsync();
        var value = await waiting;

        var id = (await fixture.Client.GetLatestSchemaAsync("other-features-value")).Id;
        Assert.Equal(ConfluentWireFormat.MagicByte, value[0]);
        Assert.Equal(id, BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4)));
        Assert.Equal(s_record, FeatureRecord.Parser.ParseFrom(value.AsSpan(6)));
    }

    [Fact]
    public async Task Encode_RegistryUnavailableForTwoRequestsThenBack_RetriesTheRegistrationAndFramesTheRecord()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        // The services' default: three attempts, with Confluent's client's back-off between them.
        var options = new SchemaRegistryOptions { Url = registry.Url };
        using var client = new Confluent.SchemaRegistry.CachedSchemaRegistryClient(options.ToClientConfig());
        var writer = new WireFormatWriter(client, options);
        registry.AnswerUnavailable(2);

        var value = writer.Encode("features", s_record);

        Assert.True(ConfluentWireFormat.IsFramed(value));
        Assert.Equal(BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1)), (await client.GetLatestSchemaAsync("features-value")).Id);
        Assert.Contains("features-value", registry.Store.Subjects());
    }

    [Fact]
    public async Task Decode_UnknownSchemaId_ThrowsNamingTheIdAndSubject()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var value = new byte[] { 0, 0, 0, 0x30, 0x39, 0 }.Concat(s_record.ToByteArray()).ToArray();

        var error = Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<FeatureRecord>("features", value));

        Assert.Equal(12345, error.SchemaId);
        Assert.Equal("features-value", error.Subject);
        Assert.Contains("schema id 12345", error.Message);
        Assert.Contains("'features-value'", error.Message);
    }

    [Fact]
    public async Task Decode_SchemaOfAnotherMessage_ThrowsNamingBothMessages()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var prediction = fixture.Writer.Encode("features", new Prediction { RequestId = "r-1", Arm = "a" });

        var error = Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<FeatureRecord>("features", prediction));

        Assert.Contains("mesh.v1.Prediction", error.Message);
        Assert.Contains("not mesh.v1.FeatureRecord", error.Message);
        Assert.Contains("'features-value'", error.Message);
    }

    [Fact]
    public async Task Decode_WriterAddedAField_OldReaderKeepsItsFieldsAndTheNewOneAsUnknown()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        fixture.Writer.Encode("features", s_record);
        var evolved = EvolvedContracts.FeatureRecordWithSource();

        var registered = await fixture.Writer.RegisterAsync(new MeshSchema("features", evolved), CancellationToken.None);
        var payload = EvolvedContracts.EncodeWithSource(s_record, "upstream-v2");
        var value = fixture.Writer.Header("features", evolved).ToArray().Concat(payload).ToArray();
        var decoded = fixture.Reader.Decode<FeatureRecord>("features", value);

        Assert.Equal(2, registered.Version);
        Assert.Equal(s_record.Values, decoded.Values);
        Assert.Equal(s_record.RequestId, decoded.RequestId);
        Assert.NotEqual(s_record, decoded);
        // The unknown field is kept: written again, the record still carries it for the next reader.
        Assert.Equal(payload, decoded.ToByteArray());
    }

    [Fact]
    public async Task Register_FieldTypeChanged_RefusedWithTheSubjectAndRegistryReason()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        fixture.Writer.Encode("features", s_record);

        var error = await Assert.ThrowsAsync<SchemaRegistrationException>(() =>
            fixture.Writer.RegisterAsync(new MeshSchema("features", EvolvedContracts.FeatureRecordWithStringValues()), CancellationToken.None));

        Assert.Equal("features-value", error.Subject);
        Assert.Contains("'features-value'", error.Message);
        Assert.Contains("incompatible", error.Message);
        Assert.Contains("FIELD_SCALAR_KIND_CHANGED", error.Message);
    }

    [Fact]
    public async Task Register_AutoRegisterOffAndSubjectMissing_RefusedSayingToRegisterFirst()
    {
        await using var fixture = await RegistryFixture.StartAsync(autoRegister: false);

        var error = await Assert.ThrowsAsync<SchemaRegistrationException>(() =>
            fixture.Writer.RegisterAsync(new MeshSchema("features", FeatureRecord.Descriptor), CancellationToken.None));

        Assert.Contains("AutoRegister is false", error.Message);
        Assert.Empty(fixture.Registry.Store.Subjects());
    }

    [Fact]
    public async Task Register_AutoRegisterOffAndSchemaRegistered_LooksItUpWithoutRegistering()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var id = (await fixture.Writer.RegisterAsync(new MeshSchema("features", FeatureRecord.Descriptor), CancellationToken.None)).Id;
        var lookupOnly = new WireFormatWriter(fixture.Client, new Kafka.SchemaRegistry.SchemaRegistryOptions { Url = fixture.Registry.Url, AutoRegister = false });

        var value = lookupOnly.Encode("features", s_record);

        Assert.Equal(id, BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4)));
    }

    // The reader remembers the header it last checked per message type, to skip the check for the records after it:
    // what it skips must be exactly what would pass, for each type on its own, and cost no allocation.
    [Fact]
    public async Task Decode_AfterValuesOfItsOwnSchema_StillRefusesAnotherMessagesSchema()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var features = fixture.Writer.Encode("features", s_record);
        var predictionOnFeatures = fixture.Writer.Encode("features-of-another-kind", s_cachePrediction);
        fixture.Reader.Decode<FeatureRecord>("features", features);
        fixture.Reader.Decode<FeatureRecord>("features", features);

        var error = Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<FeatureRecord>("features", predictionOnFeatures));

        Assert.Contains("not mesh.v1.FeatureRecord", error.Message);
        Assert.Equal(s_record, fixture.Reader.Decode<FeatureRecord>("features", features));
    }

    [Fact]
    public async Task Decode_TwoMessageTypesInTurn_EachIsCheckedAgainstItsOwnSchema()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var features = fixture.Writer.Encode("features", s_record);
        var predictions = fixture.Writer.Encode("predictions", s_cachePrediction);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(s_record, fixture.Reader.Decode<FeatureRecord>("features", features));
            Assert.Equal(s_cachePrediction, fixture.Reader.Decode<Prediction>("predictions", predictions));
        }

        Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<Prediction>("predictions", features));
        Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<FeatureRecord>("features", predictions));
    }

    [Fact]
    public async Task Decode_FramedValuesAfterTheFirst_AllocateNoMoreThanPlainOnes()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var framed = fixture.Writer.Encode("features", s_record);
        var plain = s_record.ToByteArray();
        fixture.Reader.Decode<FeatureRecord>("features", framed);
        fixture.Reader.Decode<FeatureRecord>("features", plain);

        // The least of three rounds each: a per-record allocation shows in every round, while a one-off one (a type's
        // first use, seen once in a full run of this project) would fail a single round by itself.
        var plainBytes = Enumerable.Range(0, 3).Min(_ => AllocatedBy(() => fixture.Reader.Decode<FeatureRecord>("features", plain)));
        var framedBytes = Enumerable.Range(0, 3).Min(_ => AllocatedBy(() => fixture.Reader.Decode<FeatureRecord>("features", framed)));

        Assert.True(framedBytes <= plainBytes, $"framed reads allocated {framedBytes} B, plain ones {plainBytes} B");
    }

    private static long AllocatedBy(Action decode)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            decode();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
