using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Grpc.Core;
using Mesh.ModelHost.Grpc;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Serving;
using Microsoft.Extensions.Options;

namespace Mesh.ModelHost.Http;

/// <summary>
/// The Open Inference Protocol's HTTP/JSON binding (KServe v2 REST), so <c>curl</c> works: the same
/// <see cref="InferenceCore"/> as gRPC, with tensors as JSON arrays (row-major, flat or nested).
/// </summary>
internal static class HttpInferenceEndpoints
{
    // Class names and labels are written as they are (not \u0022-escaped), so curl output reads plainly.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEndpointRouteBuilder MapInferenceHttp(this IEndpointRouteBuilder endpoints)
    {
        var v2 = endpoints.MapGroup("/v2");
        v2.MapGet("", () => Results.Json(new { name = InferenceService.ServerName, version = InferenceService.ServerVersion, extensions = Array.Empty<string>() }));
        v2.MapGet("/health/live", () => Results.Json(new { live = true }));
        v2.MapGet("/health/ready", (InferenceCore core) =>
            Results.Json(new { ready = core.Catalog.IsReady }, statusCode: core.Catalog.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable));

        v2.MapGet("/models/{name}", (InferenceCore core, string name) => Metadata(core, name, ""));
        v2.MapGet("/models/{name}/versions/{version}", (InferenceCore core, string name, string version) => Metadata(core, name, version));
        v2.MapGet("/models/{name}/ready", (InferenceCore core, string name) => Ready(core, name, ""));
        v2.MapGet("/models/{name}/versions/{version}/ready", (InferenceCore core, string name, string version) => Ready(core, name, version));
        v2.MapPost("/models/{name}/infer", (InferenceCore core, HttpContext context, string name) => Infer(core, context, name, ""));
        v2.MapPost("/models/{name}/versions/{version}/infer", (InferenceCore core, HttpContext context, string name, string version) => Infer(core, context, name, version));

        // Triton's repository extension path: resolve an MLflow model again now (an alias moved) and swap.
        v2.MapPost("/repository/models/{name}/load", async (MlflowModelSource mlflow, IOptions<ModelHostOptions> options, HttpContext context, string name) =>
        {
            if (RefuseAdmin(options.Value, context) is { } refused)
            {
                return refused;
            }

            var refresh = mlflow.RefreshAsync(name, context.RequestAborted);
            if (refresh is null)
            {
                return Results.Json(new { error = $"model '{name}' is not served from MLflow (ModelHost:Mlflow:Models)" }, statusCode: StatusCodes.Status404NotFound);
            }

            var result = await refresh;
            return result.Error is null
                ? Results.Json(new { name = result.Name, version = result.Version, swapped = result.Swapped })
                : Results.Json(new { name = result.Name, version = result.Version, error = result.Error }, statusCode: StatusCodes.Status502BadGateway);
        });

        // Retained earlier versions (ModelHost:RetainPreviousVersions) stay until pushed out or unloaded here.
        v2.MapPost("/repository/models/{name}/versions/{version}/unload", (ModelCatalog catalog, IOptions<ModelHostOptions> options, HttpContext context, string name, string version) =>
            RefuseAdmin(options.Value, context) ?? catalog.Unload(name, version) switch
            {
                UnloadOutcome.Unloaded => Results.Json(new { name, version, unloaded = true }),
                UnloadOutcome.DefaultVersion => Results.Json(
                    new { error = $"version '{version}' is the one model '{name}' serves by default; publish another version first" }, statusCode: StatusCodes.Status409Conflict),
                _ => Results.Json(new { error = $"model '{name}' has no version '{version}'" }, statusCode: StatusCodes.Status404NotFound),
            });
        return endpoints;
    }

    private static IResult? RefuseAdmin(ModelHostOptions options, HttpContext context)
    {
        var token = options.AdminToken;
        if (string.IsNullOrEmpty(token))
        {
            return Results.Json(new { error = "admin calls are off: set ModelHost:AdminToken" }, statusCode: StatusCodes.Status403Forbidden);
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString()), Encoding.UTF8.GetBytes("Bearer " + token))
            ? null
            : Results.Json(new { error = "missing or wrong bearer token" }, statusCode: StatusCodes.Status401Unauthorized);
    }

    private static IResult Metadata(InferenceCore core, string name, string version)
    {
        try
        {
            var model = core.FindModel(name, version);
            return Results.Json(new
            {
                name = model.Name,
                versions = core.Catalog.VersionsOf(model.Name),
                platform = ServedModel.Platform,
                inputs = model.Inputs.Select(i => new { name = i.Name, datatype = i.Datatype, shape = i.Shape }),
                outputs = model.Outputs.Select(o => new { name = o.Name, datatype = o.Datatype, shape = o.Shape }),
            });
        }
        catch (InferenceException e)
        {
            return Error(e);
        }
    }

    private static IResult Ready(InferenceCore core, string name, string version)
    {
        try
        {
            var ready = core.FindSlot(name, version).Model is not null;
            return Results.Json(new { name, ready }, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }
        catch (InferenceException e)
        {
            return Error(e);
        }
    }

    private static async Task Infer(InferenceCore core, HttpContext context, string name, string version)
    {
        InferenceResult result;
        try
        {
            using var request = await ReadRequestAsync(context, name, version);
            result = await core.InferAsync(request);
            if (JsonResultWriter.FindNonFinite(result) is { } nonFinite)
            {
                throw new InferenceException(StatusCode.Internal, nonFinite);
            }
        }
        catch (InferenceException e)
        {
            await Error(e).ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter.AsStream(), s_writerOptions);
        JsonResultWriter.WriteResult(writer, result);
    }

    // The whole body stays in the request pipe's own segments while it is decoded into the tensors' buffers, and is
    // released to Kestrel's memory pool before inference starts.
    private static async Task<InferenceRequest> ReadRequestAsync(HttpContext context, string name, string version)
    {
        var body = context.Request.BodyReader;
        var read = await body.ReadAsync(context.RequestAborted);
        while (!read.IsCompleted)
        {
            body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            read = await body.ReadAsync(context.RequestAborted);
        }

        try
        {
            return JsonRequestReader.Decode(read.Buffer, name, version);
        }
        finally
        {
            body.AdvanceTo(read.Buffer.End);
        }
    }

    private static IResult Error(InferenceException e) => Results.Json(new { error = e.Message }, statusCode: e.Code switch
    {
        StatusCode.InvalidArgument => StatusCodes.Status400BadRequest,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status500InternalServerError,
    });
}
