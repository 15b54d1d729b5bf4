namespace Mesh.ModelHost.Tests;

/// <summary>Alias moves taken from MLflow 3 registry webhooks, on a host that does not poll.</summary>
public sealed partial class MlflowModelHostTests
{
    [Fact]
    public async Task Webhook_AliasCreatedWithoutPolling_SwapsOnlyWhenTheSignatureIsMlflows()
    {
        LogModel("iris-hook", "1", "hook-1", TestModels.MatMulSoftmaxGraph(s_bias1));
        LogModel("iris-hook", "2", "hook-2", TestModels.MatMulSoftmaxGraph(s_bias2));
        _mlflow.SetAlias("iris-hook", "prod", "1");
        await using var host = await ModelHostRun.StartAsync(Settings(new Dictionary<string, string?>
        {
            ["ModelHost:Mlflow:Models:0:Uri"] = "models:/iris-hook@prod",
            ["ModelHost:Mlflow:PollSeconds"] = "0",
            ["ModelHost:Mlflow:WebhookSecret"] = "s3cret",
        }));
        var (client, http) = (host.Client, host.Http);
        _mlflow.SetAlias("iris-hook", "prod", "2");
        const string Body = """{"entity": "model_version_alias", "action": "created", "timestamp": "2026-12-01T16:00:00Z", "data": {"name": "iris-hook", "alias": "prod", "version": "2"}}""";

        var forged = await PostWebhookAsync(http, Body, "wrong-secret");
        var before = await client.ModelInferAsync(Latest("iris-hook", [1, 2, 3]));
        var signed = await PostWebhookAsync(http, Body, "s3cret");
        var after = await client.ModelInferAsync(Latest("iris-hook", [1, 2, 3]));

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal("1", before.ModelVersion);
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        Assert.Equal("2", after.ModelVersion);
        AssertSoftmax(after, [1, 2, 3], s_bias2);
    }

    private static async Task<HttpResponseMessage> PostWebhookAsync(HttpClient http, string body, string secret)
    {
        var delivery = Guid.NewGuid().ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/mlflow/webhook") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add(MlflowWebhookSignature.DeliveryIdHeader, delivery);
        request.Headers.Add(MlflowWebhookSignature.TimestampHeader, timestamp);
        request.Headers.Add(MlflowWebhookSignature.SignatureHeader, MlflowWebhookSignature.Sign(secret, delivery, timestamp, body));
        return await http.SendAsync(request);
    }
}
