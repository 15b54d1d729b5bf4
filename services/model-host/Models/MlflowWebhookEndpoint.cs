using System.Text.Json.Nodes;
using Mesh.Mlflow;

namespace Mesh.ModelHost.Models;

/// <summary>
/// <c>POST /v2/mlflow/webhook</c>: takes MLflow 3 registry webhooks (<c>model_version_alias.created</c>) so an alias
/// move reaches the host at once instead of at the next poll; polling stays on as the fallback (a webhook can be
/// lost, and servers without webhooks send none). On only with <c>ModelHost:Mlflow:WebhookSecret</c>, the secret
/// the webhook was created with: each delivery's HMAC signature is checked (MLflow's webhook documentation), and
/// the alias is then resolved through the registry rather than taken from the payload.
/// </summary>
internal static class MlflowWebhookEndpoint
{
    public const string Path = "/v2/mlflow/webhook";
    public const string SecretSetting = "ModelHost:Mlflow:WebhookSecret";

    // MLflow's documentation suggests refusing deliveries older than five minutes (replays).
    private static readonly TimeSpan s_maxAge = TimeSpan.FromMinutes(5);

    public static WebApplication MapMlflowWebhook(this WebApplication app)
    {
        app.MapPost(Path, HandleAsync);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, MlflowModelSource mlflow, IConfiguration configuration)
    {
        var secret = configuration[SecretSetting];
        if (string.IsNullOrEmpty(secret))
        {
            return Results.Json(new { error = $"webhooks are off: set {SecretSetting} to the secret of the MLflow webhook" }, statusCode: StatusCodes.Status404NotFound);
        }

        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var headers = context.Request.Headers;
        var time = context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        if (!MlflowWebhookSignature.Verify(secret, headers[MlflowWebhookSignature.DeliveryIdHeader], headers[MlflowWebhookSignature.TimestampHeader], body,
                headers[MlflowWebhookSignature.SignatureHeader], time.GetUtcNow(), s_maxAge))
        {
            return Results.Json(new { error = "the webhook signature does not match ModelHost:Mlflow:WebhookSecret, or the delivery is too old" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        JsonNode? payload;
        try
        {
            payload = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            return Results.Json(new { error = "the body is not JSON" }, statusCode: StatusCodes.Status400BadRequest);
        }

        var (entity, action) = ((string?)payload?["entity"], (string?)payload?["action"]);
        var name = (string?)payload?["data"]?["name"];
        var alias = (string?)payload?["data"]?["alias"];
        if (entity != "model_version_alias" || action is not ("created" or "deleted") || name is null || alias is null)
        {
            // Other registry events say nothing about what this host serves.
            return Results.Json(new { ignored = $"{entity}.{action}" });
        }

        var results = await mlflow.RefreshAliasAsync(name, alias, context.RequestAborted);
        return Results.Json(new { refreshed = results.Select(r => new { model = r.Name, version = r.Version, swapped = r.Swapped, error = r.Error }) });
    }
}
