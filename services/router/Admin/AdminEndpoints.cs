using Google.Protobuf;
using Mesh.Contracts.V1;

namespace Mesh.Router.Admin;

/// <summary>
/// The admin API as HTTP/JSON under <c>/admin</c>: the gRPC messages in the proto3 JSON mapping, so both faces
/// say the same thing. Every request needs <c>Authorization: Bearer &lt;Router:Admin:Token&gt;</c>.
/// </summary>
internal static class AdminEndpoints
{
    private static readonly JsonFormatter s_formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));
    private static readonly JsonParser s_parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    public static IEndpointRouteBuilder MapRouterAdmin(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<RouterAdminGrpcService>();

        var admin = endpoints.MapGroup("/admin").AddEndpointFilter(async (context, next) =>
        {
            var operations = context.HttpContext.RequestServices.GetRequiredService<AdminOperations>();
            if (!operations.IsAuthorized(context.HttpContext.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null))
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                return Results.Json(new { error = operations.RefusalReason }, statusCode: StatusCodes.Status401Unauthorized);
            }

            try
            {
                return await next(context);
            }
            catch (KeyNotFoundException e)
            {
                return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status404NotFound);
            }
            catch (InvalidProtocolBufferException e)
            {
                return Results.Json(new { error = "the body is not valid JSON for this request: " + e.Message }, statusCode: StatusCodes.Status400BadRequest);
            }
            catch (ArgumentException e)
            {
                return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status400BadRequest);
            }
            catch (InvalidOperationException e)
            {
                return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status409Conflict);
            }
        });

        admin.MapGet("/experiments", (AdminOperations operations) => Json(operations.List()));
        admin.MapGet("/experiments/{name}", (string name, AdminOperations operations) => Json(operations.Get(name)));
        admin.MapPut("/experiments/{name}/weights", async (string name, HttpRequest request, AdminOperations operations, CancellationToken cancellationToken) =>
        {
            var body = await ReadAsync<SetWeightsRequest>(request);
            body.Experiment = name;
            return Json(await operations.SetWeightsAsync(body, cancellationToken));
        });
        admin.MapPost("/experiments/{name}/rewards", async (string name, HttpRequest request, AdminOperations operations, CancellationToken cancellationToken) =>
        {
            var body = await ReadAsync<RecordRewardRequest>(request);
            body.Experiment = name;
            await operations.RecordRewardAsync(body, cancellationToken);
            return Results.NoContent();
        });
        admin.MapPost("/reload", async (AdminOperations operations, CancellationToken cancellationToken) =>
            Json(await operations.ReloadAsync(cancellationToken)));
        return endpoints;
    }

    private static IResult Json(IMessage message) => Results.Text(s_formatter.Format(message), "application/json");

    private static async Task<T> ReadAsync<T>(HttpRequest request)
        where T : IMessage<T>, new()
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync();
        try
        {
            return s_parser.Parse<T>(text);
        }
        catch (InvalidJsonException e)
        {
            // Not JSON at all (Google.Protobuf reports that as an IOException, which would answer 500).
            throw new ArgumentException($"the body is not valid JSON: {e.Message}", e);
        }
    }
}
