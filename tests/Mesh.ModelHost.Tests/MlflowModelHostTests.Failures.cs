namespace Mesh.ModelHost.Tests;

/// <summary>Versions whose files are not there, answered as the real artifact proxy answers them.</summary>
public sealed partial class MlflowModelHostTests
{
    [Fact]
    public async Task AdminLoad_VersionWhoseFilesAreMissing_FailsAtOnceNamingTheUriAndKeepsServing()
    {
        // The proxy lists the missing folder as {} and answers a fetch of it with 500 INTERNAL_ERROR.
        _mlflow.AddVersion("iris-swap", "4", "swap-4", source: "mlflow-artifacts:/0/nowhere/artifacts/model");
        _mlflow.SetAlias("iris-swap", "prod", "4");
        var before = _mlflow.Requests;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/repository/models/iris-swap/load");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var load = await _host.Http.SendAsync(request);
        var body = JsonNode.Parse(await load.Content.ReadAsStringAsync())!;
        var requests = _mlflow.Requests - before;
        var served = await _host.Client.ModelInferAsync(Latest("iris-swap", [1, 2, 3]));

        Assert.Equal(HttpStatusCode.BadGateway, load.StatusCode);
        Assert.Contains("'mlflow-artifacts:/0/nowhere/artifacts/model' does not exist", (string?)body["error"]);
        // Alias, version, download URI, two listings: no fetch of the missing path, so nothing retried.
        Assert.InRange(requests, 1, 6);
        Assert.NotEqual("4", served.ModelVersion);
    }
}
