namespace Mesh.Mlflow.Tests;

/// <summary>The HMAC signature of MLflow 3 registry webhooks, as its documentation specifies it.</summary>
public sealed class MlflowWebhookSignatureTests
{
    private const string Body = """{"entity": "model_version_alias", "action": "created", "data": {"name": "iris", "alias": "champion", "version": "2"}}""";
    private static readonly DateTimeOffset s_now = DateTimeOffset.FromUnixTimeSeconds(1_764_260_000);

    [Fact]
    public void Verify_SignedByTheSameSecret_Accepts()
    {
        var signature = MlflowWebhookSignature.Sign("s3cret", "d-1", "1764260000", Body);

        Assert.StartsWith("v1,", signature, StringComparison.Ordinal);
        Assert.True(MlflowWebhookSignature.Verify("s3cret", "d-1", "1764260000", Body, signature, s_now, TimeSpan.FromMinutes(5)));
    }

    [Theory]
    [InlineData("other", "d-1", "1764260000", Body)]
    [InlineData("s3cret", "d-2", "1764260000", Body)]
    [InlineData("s3cret", "d-1", "1764260001", Body)]
    [InlineData("s3cret", "d-1", "1764260000", Body + " ")]
    public void Verify_AnyPartChanged_Refuses(string secret, string deliveryId, string timestamp, string body)
    {
        var signature = MlflowWebhookSignature.Sign(secret, deliveryId, timestamp, body);

        Assert.False(MlflowWebhookSignature.Verify("s3cret", "d-1", "1764260000", Body, signature, s_now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Verify_OldDelivery_RefusedAsAReplay()
    {
        var signature = MlflowWebhookSignature.Sign("s3cret", "d-1", "1764250000", Body);

        Assert.False(MlflowWebhookSignature.Verify("s3cret", "d-1", "1764250000", Body, signature, s_now, TimeSpan.FromMinutes(5)));
        Assert.False(MlflowWebhookSignature.Verify("s3cret", "d-1", "1764260000", Body, null, s_now, TimeSpan.FromMinutes(5)));
    }
}
