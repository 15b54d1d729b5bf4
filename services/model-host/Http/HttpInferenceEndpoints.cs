using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Grpc.Core;
using Mesh.ModelHost.Grpc;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Serving;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime.Tensors;

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
            var token = options.Value.AdminToken;
            if (string.IsNullOrEmpty(token))
            {
                return Results.Json(new { error = "admin calls are off: set ModelHost:AdminToken" }, statusCode: StatusCodes.Status403Forbidden);
            }

            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString()), Encoding.UTF8.GetBytes("Bearer " + token)))
            {
                return Results.Json(new { error = "missing or wrong bearer token" }, statusCode: StatusCodes.Status401Unauthorized);
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
        return endpoints;
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
            using var document = await ParseBody(context);
            using var request = Decode(document.RootElement, name, version);
            result = await core.InferAsync(request);
        }
        catch (InferenceException e)
        {
            await Error(e).ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter.AsStream(), s_writerOptions);
        WriteResult(writer, result);
    }

    private static async Task<JsonDocument> ParseBody(HttpContext context)
    {
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw InferenceException.InvalidArgument($"the request body is not JSON: {e.Message}");
        }
    }

    private static InferenceRequest Decode(JsonElement root, string name, string version)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("inputs", out var inputsElement) || inputsElement.ValueKind != JsonValueKind.Array)
        {
            throw InferenceException.InvalidArgument("the request needs an \"inputs\" array");
        }

        var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : "";
        var requested = new List<string>();
        if (root.TryGetProperty("outputs", out var outputsElement) && outputsElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var output in outputsElement.EnumerateArray())
            {
                requested.Add(RequiredString(output, "name", "outputs[]"));
            }
        }

        var inputs = new List<InputTensor>();
        var request = new InferenceRequest(name, version, id, inputs, requested);
        try
        {
            var index = 0;
            foreach (var element in inputsElement.EnumerateArray())
            {
                var where = $"inputs[{index++}]";
                var inputName = RequiredString(element, "name", where);
                var datatype = RequiredString(element, "datatype", $"input '{inputName}'");
                if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
                    || shapeElement.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out _)))
                {
                    throw InferenceException.InvalidArgument($"input '{inputName}' needs \"shape\", an array of integers");
                }

                var input = new InputTensor(inputName, datatype, [.. shapeElement.EnumerateArray().Select(d => d.GetInt64())]);
                inputs.Add(input);
                if (element.TryGetProperty("data", out var data) && TensorDatatype.TryFromV2(datatype, out var type))
                {
                    DecodeData(input, type, data);
                }
            }

            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private static void DecodeData(InputTensor input, TensorElementType type, JsonElement data)
    {
        var values = new List<JsonElement>();
        Flatten(data, values);
        if (type == TensorElementType.String)
        {
            var elements = new ReadOnlyMemory<byte>[values.Count];
            for (var i = 0; i < elements.Length; i++)
            {
                elements[i] = values[i].ValueKind == JsonValueKind.String
                    ? System.Text.Encoding.UTF8.GetBytes(values[i].GetString()!)
                    : throw InferenceException.InvalidArgument($"input '{input.Name}' is BYTES: data[{i}] must be a string");
            }

            input.SetTypedElements(elements, "data");
            return;
        }

        var size = TensorDatatype.ElementSize(type);
        var span = input.RentTyped(values.Count, size, "data");
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            var slot = span.Slice(i * size, size);
            // TryGet* throws on anything but a number, so a string or null must be caught first.
            var ok = (type == TensorElementType.Bool || value.ValueKind == JsonValueKind.Number) && type switch
            {
                TensorElementType.Bool => value.ValueKind is JsonValueKind.True or JsonValueKind.False && Write(slot, value.GetBoolean() ? (byte)1 : (byte)0),
                TensorElementType.Int8 => value.TryGetSByte(out var v) && Write(slot, v),
                TensorElementType.Int16 => value.TryGetInt16(out var v) && Write(slot, v),
                TensorElementType.Int32 => value.TryGetInt32(out var v) && Write(slot, v),
                TensorElementType.Int64 => value.TryGetInt64(out var v) && Write(slot, v),
                TensorElementType.UInt8 => value.TryGetByte(out var v) && Write(slot, v),
                TensorElementType.UInt16 => value.TryGetUInt16(out var v) && Write(slot, v),
                TensorElementType.UInt32 => value.TryGetUInt32(out var v) && Write(slot, v),
                TensorElementType.UInt64 => value.TryGetUInt64(out var v) && Write(slot, v),
                TensorElementType.Float16 => value.TryGetDouble(out var v) && Write(slot, (Half)v),
                TensorElementType.Float => value.TryGetSingle(out var v) && Write(slot, v),
                TensorElementType.Double => value.TryGetDouble(out var v) && Write(slot, v),
                _ => false,
            };
            if (!ok)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' is {input.Datatype}: data[{i}] ({value.GetRawText()}) is not a {input.Datatype} value");
            }
        }
    }

    private static bool Write<T>(Span<byte> slot, T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(slot, in value);
        return true;
    }

    private static void Flatten(JsonElement element, List<JsonElement> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, values);
            }
        }
        else
        {
            values.Add(element);
        }
    }

    private static void WriteResult(Utf8JsonWriter writer, InferenceResult result)
    {
        writer.WriteStartObject();
        writer.WriteString("model_name", result.ModelName);
        writer.WriteString("model_version", result.ModelVersion);
        writer.WriteString("id", result.Id);
        if (result.ClassNamesJson is not null)
        {
            writer.WriteStartObject("parameters");
            writer.WriteString(InferenceService.ClassNamesParameter, result.ClassNamesJson);
            writer.WriteEndObject();
        }

        writer.WriteStartArray("outputs");
        foreach (var output in result.Outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", output.Name);
            writer.WriteString("datatype", output.Datatype);
            writer.WriteStartArray("shape");
            foreach (var dim in output.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data");
            WriteData(writer, output);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteData(Utf8JsonWriter writer, OutputTensor output)
    {
        var data = output.Data.AsSpan();
        TensorDatatype.TryFromV2(output.Datatype, out var type);
        switch (type)
        {
            case TensorElementType.String:
                while (!data.IsEmpty)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                    writer.WriteStringValue(data.Slice(sizeof(int), length));
                    data = data[(sizeof(int) + length)..];
                }

                break;
            case TensorElementType.Bool:
                foreach (var b in data)
                {
                    writer.WriteBooleanValue(b != 0);
                }

                break;
            case TensorElementType.Int8: Numbers(writer, MemoryMarshal.Cast<byte, sbyte>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Int16: Numbers(writer, MemoryMarshal.Cast<byte, short>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Int32: Numbers(writer, MemoryMarshal.Cast<byte, int>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Int64: Numbers(writer, MemoryMarshal.Cast<byte, long>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt8: Numbers(writer, data, static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt16: Numbers(writer, MemoryMarshal.Cast<byte, ushort>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt32: Numbers(writer, MemoryMarshal.Cast<byte, uint>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt64: Numbers(writer, MemoryMarshal.Cast<byte, ulong>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Float16: Numbers(writer, MemoryMarshal.Cast<byte, Half>(data), static (w, v) => WriteFloat(w, (double)v)); break;
            case TensorElementType.Float: Numbers(writer, MemoryMarshal.Cast<byte, float>(data), static (w, v) => WriteFloat(w, v)); break;
            case TensorElementType.Double: Numbers(writer, MemoryMarshal.Cast<byte, double>(data), static (w, v) => WriteFloat(w, v)); break;
        }
    }

    // JSON has no NaN or infinity; write them as the strings Python's json and KServe servers accept.
    private static void WriteFloat(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            WriteFloat(writer, (double)value);
        }
    }

    private delegate void NumberWriter<T>(Utf8JsonWriter writer, T value);

    private static void Numbers<T>(Utf8JsonWriter writer, ReadOnlySpan<T> values, NumberWriter<T> write)
    {
        foreach (var value in values)
        {
            write(writer, value);
        }
    }

    private static string RequiredString(JsonElement element, string property, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw InferenceException.InvalidArgument($"{where} needs \"{property}\", a string");

    private static IResult Error(InferenceException e) => Results.Json(new { error = e.Message }, statusCode: e.Code switch
    {
        StatusCode.InvalidArgument => StatusCodes.Status400BadRequest,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status500InternalServerError,
    });
}
