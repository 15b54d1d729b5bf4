namespace Mesh.ModelHost.Tests;

/// <summary>The Open Inference Protocol's HTTP/JSON binding on the HTTP endpoint, as curl would call it.</summary>
[Collection(ModelHostCollection.Name)]
public sealed class HttpInferenceTests(ModelHostFixture host) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = host.HttpUri };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Get_ServerMetadataAndHealth_AnswerLiveReadyAndName()
    {
        var server = await _http.GetFromJsonAsync<JsonObject>("/v2");
        var live = await _http.GetAsync("/v2/health/live");
        var ready = await _http.GetAsync("/v2/health/ready");
        var modelReady = await _http.GetAsync("/v2/models/iris-logreg/versions/1/ready");

        Assert.Equal("mesh-model-host", (string?)server!["name"]);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True((bool?)(await ready.Content.ReadFromJsonAsync<JsonObject>())!["ready"]);
        Assert.Equal(HttpStatusCode.OK, modelReady.StatusCode);
    }

    [Fact]
    public async Task Get_ModelMetadata_DescribesInputsAndOutputs()
    {
        var metadata = await _http.GetFromJsonAsync<JsonObject>("/v2/models/iris-logreg");

        Assert.Equal("iris-logreg", (string?)metadata!["name"]);
        var input = metadata["inputs"]![0]!;
        Assert.Equal(("Features", "FP32", "[-1,4]"), ((string?)input["name"], (string?)input["datatype"], input["shape"]!.ToJsonString()));
        Assert.Equal(["label", "probabilities"], metadata["outputs"]!.AsArray().Select(o => (string?)o!["name"]));
    }

    [Fact]
    public async Task PostInfer_NestedRows_ReturnsClassNamesLabelsAndIdLikeGrpc()
    {
        var body = """
            { "id": "http-1",
              "inputs": [ { "name": "Features", "datatype": "FP32", "shape": [2, 4],
                            "data": [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]] } ] }
            """;

        var response = await Post("/v2/models/iris-logreg/versions/1/infer", body);
        var grpc = await host.Client.ModelInferAsync(Raw("iris-logreg", Concat(Setosa, Virginica), 2));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var json = response.Json!;
        Assert.Equal("http-1", (string?)json["id"]);
        Assert.Equal("1", (string?)json["model_version"]);
        Assert.Equal("""["setosa","versicolor","virginica"]""", (string?)json["parameters"]!["class_names"]);
        Assert.Equal(["setosa", "virginica"], Data(json, "label").Select(v => (string?)v));
        Assert.Equal(DecodeFp32(Output(grpc, "probabilities").Bytes), Data(json, "probabilities").Select(v => (float)v!));
        Assert.Equal("[2,3]", OutputOf(json, "probabilities")["shape"]!.ToJsonString());
    }

    [Fact]
    public async Task PostInfer_IdentityEveryDatatype_ReturnsTheSameValues()
    {
        var values = new Dictionary<string, string>
        {
            ["BOOL"] = "[true, false, false, true]",
            ["INT8"] = "[-128, -1, 0, 127]",
            ["INT16"] = "[-32768, -2, 3, 32767]",
            ["INT32"] = "[-2147483648, -5, 6, 2147483647]",
            ["INT64"] = "[-9223372036854775808, -7, 8, 9223372036854775807]",
            ["UINT8"] = "[0, 1, 200, 255]",
            ["UINT16"] = "[0, 2, 40000, 65535]",
            ["UINT32"] = "[0, 3, 3000000000, 4294967295]",
            ["UINT64"] = "[0, 4, 10000000000000, 18446744073709551615]",
            ["FP32"] = "[1.5, -2.25, 0.125, 1000000]",
            ["FP64"] = "[1.5, -2.25, 1E-300, 1E+300]",
            ["BYTES"] = """["a", "", "ünïcode", "spaces too"]""",
        };
        var inputs = string.Join(",", TestModels.Datatypes.Select(t => $$"""{ "name": "in_{{t.V2}}", "datatype": "{{t.V2}}", "shape": [2, 2], "data": {{values[t.V2]}} }"""));

        var response = await Post($"/v2/models/{TestModels.Identity}/infer", $$"""{ "inputs": [{{inputs}}] }""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        foreach (var (datatype, _) in TestModels.Datatypes)
        {
            var output = OutputOf(response.Json!, "out_" + datatype);
            Assert.Equal(datatype, (string?)output["datatype"]);
            Assert.Equal(JsonNode.Parse(values[datatype])!.ToJsonString(), output["data"]!.ToJsonString());
        }
    }

    [Fact]
    public async Task PostInfer_ZipMapModel_ReturnsProbabilitiesAndClassLabels()
    {
        float[] row = [1, 2, 3];
        var body = """{ "inputs": [ { "name": "X", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3] } ] }""";

        var response = await Post($"/v2/models/{TestModels.LinearZipMap}/infer", body);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("""["10","20","30"]""", (string?)response.Json!["parameters"]!["class_names"]);
        var expected = TestModels.Softmax(TestModels.LinearWeights, TestModels.LinearIntercepts, row);
        var actual = Data(response.Json, "output_probability").Select(v => (double)v!).ToArray();
        Assert.Equal(3, actual.Length);
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(expected[c], actual[c], 1e-5);
        }
    }

    [Fact]
    public async Task PostInfer_UnknownModel_404NamingIt()
    {
        var response = await Post("/v2/models/iris-missing/infer", """{ "inputs": [] }""");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Contains("iris-missing", (string?)response.Json!["error"]);
    }

    [Fact]
    public async Task PostInfer_WrongDatatype_400NamingTensorAndExpectedType()
    {
        var body = """{ "inputs": [ { "name": "Features", "datatype": "INT32", "shape": [1, 4], "data": [1, 2, 3, 4] } ] }""";

        var response = await Post("/v2/models/iris-logreg/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("'Features'", (string?)response.Json!["error"]);
        Assert.Contains("expected FP32", (string?)response.Json!["error"]);
    }

    [Fact]
    public async Task PostInfer_NonNumericValueAndBrokenJson_400WithReason()
    {
        var text = await Post("/v2/models/iris-logreg/infer", """{ "inputs": [ { "name": "Features", "datatype": "FP32", "shape": [1, 4], "data": [1, "x", 3, 4] } ] }""");
        var broken = await Post("/v2/models/iris-logreg/infer", """{ "inputs": [ """);

        Assert.Equal(HttpStatusCode.BadRequest, text.Status);
        Assert.Contains("data[1]", (string?)text.Json!["error"]);
        Assert.Equal(HttpStatusCode.BadRequest, broken.Status);
        Assert.Contains("not JSON", (string?)broken.Json!["error"]);
    }

    private static JsonNode OutputOf(JsonNode response, string name) =>
        response["outputs"]!.AsArray().Single(o => (string?)o!["name"] == name)!;

    private static JsonArray Data(JsonNode response, string name) => OutputOf(response, name)["data"]!.AsArray();

    [Fact]
    public async Task PostInfer_NonFiniteInputOrOutput_RefusedNamingTheTensorNeverWritingNaNStrings()
    {
        // log(0) and log(-1) are -Infinity and NaN: JSON cannot carry them, and "NaN" strings are refused as input.
        var output = await PostText("/v2/models/log-of-input/infer", """
            { "inputs": [ { "name": "x", "datatype": "FP32", "shape": [1, 2], "data": [0, -1] } ] }
            """);
        var input = await Post("/v2/models/matmul-softmax/infer", """
            { "inputs": [ { "name": "x", "datatype": "FP32", "shape": [1, 3], "data": [1, "NaN", 3] } ] }
            """);
        var finite = await Post("/v2/models/log-of-input/infer", """
            { "inputs": [ { "name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 1] } ] }
            """);

        Assert.Equal(HttpStatusCode.InternalServerError, output.Status);
        Assert.Contains("output 'y'", output.Text);
        Assert.Contains("element 0", output.Text);
        Assert.DoesNotContain("\"NaN\"", output.Text);
        Assert.DoesNotContain("\"-Infinity\"", output.Text);
        Assert.Equal(HttpStatusCode.BadRequest, input.Status);
        Assert.Contains("data[1]", (string?)input.Json!["error"]);
        Assert.Equal(HttpStatusCode.OK, finite.Status);
        Assert.Equal([0.0, 0.0], finite.Json!["outputs"]![0]!["data"]!.AsArray().Select(v => (double)v!));
    }

    [Fact]
    public async Task PostInfer_Fp16PastItsFiniteRange_BadRequestNamingTheValue()
    {
        var response = await Post("/v2/models/half-identity/infer", """
            { "inputs": [ { "name": "in_FP16", "datatype": "FP16", "shape": [1, 2], "data": [1.5, 70000] } ] }
            """);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("data[1] (70000)", (string?)response.Json!["error"]);
    }

    private async Task<(HttpStatusCode Status, string Text)> PostText(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(path, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, JsonNode? Json)> Post(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text));
    }
}
