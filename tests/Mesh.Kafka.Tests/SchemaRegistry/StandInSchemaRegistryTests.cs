namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>The stand-in answers as Confluent's API reference documents, checked over plain HTTP.</summary>
public sealed class StandInSchemaRegistryTests
{
    [Fact]
    public async Task StartAsync_GivenPort_AnswersOnThatPort()
    {
        // `mesh registry --port` gives a laptop's services one address to keep across restarts.
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var registry = await StandInSchemaRegistry.StartAsync(port);
        using var http = new HttpClient { BaseAddress = new Uri(registry.Url) };

        Assert.Equal($"http://127.0.0.1:{port}", registry.Url);
        Assert.Equal("[]", await http.GetStringAsync("/subjects"));
    }

    [Fact]
    public async Task Get_UnknownSubjectSchemaAndVersion_AnswerConfluentsErrorCodes()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(registry.Url) };

        await AssertError(await http.GetAsync("/subjects/nope-value/versions"), HttpStatusCode.NotFound, 40401, "Subject 'nope-value' not found.");
        await AssertError(await http.GetAsync("/schemas/ids/99"), HttpStatusCode.NotFound, 40403, "Schema 99 not found");
        await AssertError(await http.GetAsync("/config/nope-value"), HttpStatusCode.NotFound, 40408, "Subject 'nope-value' does not have subject-level compatibility configured");
        await AssertError(await http.GetAsync("/subjects/nope-value/versions/zero"), (HttpStatusCode)422, 42202, null);
    }

    [Fact]
    public async Task Register_InvalidSchemaOrMissingReference_Answers42201()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(registry.Url) };

        await AssertError(await Post(http, "/subjects/t-value/versions", new JsonObject { ["schemaType"] = "PROTOBUF", ["schema"] = "not a schema" }),
            (HttpStatusCode)422, 42201, null);
        await AssertError(await Post(http, "/subjects/t-value/versions", Body(FeatureRecord.Descriptor.File.SerializedData.ToBase64(), "google/protobuf/timestamp.proto", 1)),
            (HttpStatusCode)422, 42201, null);
    }

    [Fact]
    public async Task Register_SameSchemaTwiceAndUnderAnotherSubject_KeepsItsIdAndOneVersion()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(registry.Url) };
        var timestamp = new JsonObject { ["schemaType"] = "PROTOBUF", ["schema"] = ProtobufSchemas.SchemaString(Timestamp.Descriptor.File) };

        var first = await IdOf(await Post(http, "/subjects/google%2Fprotobuf%2Ftimestamp.proto/versions", timestamp));
        var again = await IdOf(await Post(http, "/subjects/google%2Fprotobuf%2Ftimestamp.proto/versions", timestamp.DeepClone()));
        var elsewhere = await IdOf(await Post(http, "/subjects/other/versions", timestamp.DeepClone()));

        Assert.Equal(first, again);
        Assert.Equal(first, elsewhere);
        Assert.Equal("[1]", await http.GetStringAsync("/subjects/google%2Fprotobuf%2Ftimestamp.proto/versions"));
        Assert.Equal("[\"google/protobuf/timestamp.proto\",\"other\"]", await http.GetStringAsync("/subjects"));
    }

    [Fact]
    public async Task Register_FieldTypeChangedUnderBackward_Answers409AndCompatibilityCheckSaysFalse()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(registry.Url) };
        await Post(http, "/subjects/google%2Fprotobuf%2Ftimestamp.proto/versions", new JsonObject { ["schemaType"] = "PROTOBUF", ["schema"] = ProtobufSchemas.SchemaString(Timestamp.Descriptor.File) });
        var v1 = Body(ProtobufSchemas.SchemaString(FeatureRecord.Descriptor.File), "google/protobuf/timestamp.proto", 1);
        var retyped = Body(ProtobufSchemas.SchemaString(EvolvedContracts.FeatureRecordWithStringValues().File), "google/protobuf/timestamp.proto", 1);
        var added = Body(ProtobufSchemas.SchemaString(EvolvedContracts.FeatureRecordWithSource().File), "google/protobuf/timestamp.proto", 1);
        await IdOf(await Post(http, "/subjects/f-value/versions", v1));

        var check = JsonNode.Parse(await (await Post(http, "/compatibility/subjects/f-value/versions/latest?verbose=true", retyped)).Content.ReadAsStringAsync())!;
        var refused = await Post(http, "/subjects/f-value/versions", retyped.DeepClone());
        var addedCheck = JsonNode.Parse(await (await Post(http, "/compatibility/subjects/f-value/versions/1", added)).Content.ReadAsStringAsync())!;

        Assert.False(check["is_compatible"]!.GetValue<bool>());
        Assert.Contains("FIELD_SCALAR_KIND_CHANGED", check["messages"]![0]!.GetValue<string>());
        await AssertError(refused, HttpStatusCode.Conflict, 409, null);
        Assert.True(addedCheck["is_compatible"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Config_PutGlobalAndSubject_GetAnswersThemAndRefusesUnknownLevels()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(registry.Url) };

        Assert.Equal("{\"compatibilityLevel\":\"BACKWARD\"}", await http.GetStringAsync("/config"));
        Assert.Equal("{\"compatibility\":\"FULL\"}", await (await Put(http, "/config/s-value", "FULL")).Content.ReadAsStringAsync());
        Assert.Equal("{\"compatibilityLevel\":\"FULL\"}", await http.GetStringAsync("/config/s-value"));
        Assert.Equal("{\"compatibilityLevel\":\"BACKWARD\"}", await http.GetStringAsync("/config/other-value?defaultToGlobal=true"));
        await AssertError(await Put(http, "/config", "SIDEWAYS"), (HttpStatusCode)422, 42203, null);
        await AssertError(await http.GetAsync("/no/such/path"), HttpStatusCode.NotFound, 404, "HTTP 404 Not Found");
    }

    private static JsonObject Body(string schema, string reference, int version) => new()
    {
        ["schemaType"] = "PROTOBUF",
        ["schema"] = schema,
        ["references"] = new JsonArray(new JsonObject { ["name"] = reference, ["subject"] = reference, ["version"] = version }),
    };

    private static Task<HttpResponseMessage> Post(HttpClient http, string path, JsonNode body) =>
        http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/vnd.schemaregistry.v1+json"));

    private static Task<HttpResponseMessage> Put(HttpClient http, string path, string level) =>
        http.PutAsync(path, new StringContent(new JsonObject { ["compatibility"] = level }.ToJsonString(), Encoding.UTF8, "application/vnd.schemaregistry.v1+json"));

    private static async Task<int> IdOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<int>();
    }

    private static async Task AssertError(HttpResponseMessage response, HttpStatusCode status, int errorCode, string? message)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/vnd.schemaregistry.v1+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(errorCode, body["error_code"]!.GetValue<int>());
        if (message is not null)
        {
            Assert.Equal(message, body["message"]!.GetValue<string>());
        }
    }
}
