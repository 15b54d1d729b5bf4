using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>
/// A stand-in for Confluent Schema Registry (a JVM service that cannot run here), in this process on 127.0.0.1, for
/// laptops, benchmarks and tests (<c>mesh registry</c>, <c>mesh bench --schema-registry local</c>), not for production:
/// it keeps its schemas in memory only, has no authentication, and checks protobuf compatibility by a subset of
/// Confluent's rules. It answers the endpoints of Confluent's Schema Registry API reference (docs.confluent.io, "Schema Registry API
/// Reference") the way they are documented, with content type application/vnd.schemaregistry.v1+json:
/// <list type="bullet">
/// <item><c>POST /subjects/{subject}/versions</c>: <c>{"id":N}</c>; the same schema under any subject keeps its id
/// and an identical schema adds no version; 409 with error_code 409 ("Schema being registered is incompatible with an
/// earlier schema for subject ..., details: [...]") under the subject's compatibility level (BACKWARD by default);
/// 422 with 42201 for an invalid schema or a reference to a subject version that does not exist.</item>
/// <item><c>POST /subjects/{subject}</c> (lookup): subject, id, version, schemaType, schema, references; 404 with
/// 40401 "Subject '...' not found." or 40403 "Schema not found".</item>
/// <item><c>GET /schemas/ids/{id}</c> (<c>format</c>, <c>subject</c> accepted): schemaType, schema, references;
/// 404 with 40403 "Schema N not found".</item>
/// <item><c>GET /subjects</c>, <c>GET /subjects/{subject}/versions</c>, <c>GET /subjects/{subject}/versions/{version}</c>
/// (a number or <c>latest</c>; 40402 "Version N not found.", 422 with 42202 for an invalid version).</item>
/// <item><c>POST /compatibility/subjects/{subject}/versions/{version}</c>: <c>{"is_compatible":bool}</c>, with
/// <c>messages</c> when <c>verbose=true</c>.</item>
/// <item><c>GET /config</c> (<c>{"compatibilityLevel":...}</c>), <c>PUT /config</c> and <c>PUT /config/{subject}</c>
/// (<c>{"compatibility":...}</c>; 42203 for an unknown level), <c>GET /config/{subject}</c> (40408 "Subject '...'
/// does not have subject-level compatibility configured" unless <c>defaultToGlobal=true</c>).</item>
/// <item>Any other path: 404 with error_code 404 "HTTP 404 Not Found".</item>
/// </list>
/// Protobuf schemas are accepted in the serialized form Confluent's own .NET and Python serializers register
/// (base64 FileDescriptorProto), which is also what <c>format=serialized</c> returns; .proto text is refused with
/// 42201 (the real registry parses it). The compatibility rules are in <see cref="ProtobufBackwardCompatibility"/>.
/// Credentials are not checked, only kept (<see cref="LastCredentials"/>), so a test can see what a client sends.
/// <see cref="AnswerUnavailable"/> answers the next requests with 503, as a proxy in front of a restarting registry does;
/// <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> take it down (its port refusing) and bring it back.
/// </summary>
public sealed class StandInSchemaRegistry : IAsyncDisposable
{
    private const string ContentType = "application/vnd.schemaregistry.v1+json";

    private WebApplication _app;
    private readonly StrongBox<int> _requests;
    private readonly StrongBox<RequestCredentials?> _credentials;
    private readonly StrongBox<int> _unavailable;

    private StandInSchemaRegistry(WebApplication app, RegistryStore store, StrongBox<int> requests, StrongBox<RequestCredentials?> credentials, StrongBox<int> unavailable)
    {
        _app = app;
        Store = store;
        _requests = requests;
        _credentials = credentials;
        _unavailable = unavailable;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public string Url { get; }

    public RegistryStore Store { get; }

    /// <summary>How many requests the registry has answered: a cached client asks nothing more.</summary>
    public int Requests => Volatile.Read(ref _requests.Value);

    /// <summary>The auth headers of the last request (null before the first).</summary>
    public RequestCredentials? LastCredentials => Volatile.Read(ref _credentials.Value);

    /// <summary>Answers the next <paramref name="requests"/> requests with 503 Service Unavailable, then as before.</summary>
    public void AnswerUnavailable(int requests) => Volatile.Write(ref _unavailable.Value, requests);

    /// <summary>Starts the registry on 127.0.0.1 and <paramref name="port"/> (0: a free port the system picks; see <see cref="Url"/>).</summary>
    public static async Task<StandInSchemaRegistry> StartAsync(int port = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65_535);
        var store = new RegistryStore();
        var requests = new StrongBox<int>();
        var credentials = new StrongBox<RequestCredentials?>();
        var unavailable = new StrongBox<int>();
        var app = await ServeAsync(port, store, requests, credentials, unavailable).ConfigureAwait(false);
        return new StandInSchemaRegistry(app, store, requests, credentials, unavailable);
    }

    /// <summary>Takes the registry down (a registry outage); its port stops answering (connections are refused).</summary>
    public Task StopAsync() => _app.StopAsync();

    /// <summary>
    /// After <see cref="StopAsync"/>: the registry back on the same port with the schemas it held, as a restarted
    /// Confluent registry comes back with its <c>_schemas</c> topic.
    /// </summary>
    public async Task StartAgainAsync()
    {
        var port = new Uri(Url).Port;
        var stopped = _app;
        _app = await ServeAsync(port, Store, _requests, _credentials, _unavailable).ConfigureAwait(false);
        await stopped.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);

    private static async Task<WebApplication> ServeAsync(int port, RegistryStore store, StrongBox<int> requests, StrongBox<RequestCredentials?> credentials, StrongBox<int> unavailable)
    {
        // A content root without appsettings.json: a test folder may hold a service's (the model host's sets Kestrel
        // endpoints, HTTP/2 only on one of them), which would override the loopback port below.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Path.GetTempPath() });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var app = builder.Build();
        Map(app, store, requests, credentials, unavailable);
        await app.StartAsync().ConfigureAwait(false);
        return app;
    }

    private static void Map(WebApplication app, RegistryStore store, StrongBox<int> requests, StrongBox<RequestCredentials?> credentials, StrongBox<int> unavailable)
    {
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref requests.Value);
            var headers = context.Request.Headers;
            Volatile.Write(ref credentials.Value, new RequestCredentials(
                NullIfEmpty(headers.Authorization), NullIfEmpty(headers["target-sr-cluster"]), NullIfEmpty(headers["Confluent-Identity-Pool-Id"])));
            if (TakeOne(unavailable))
            {
                await Error(new RegistryError(503, 503, "Service Unavailable")).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        });
        app.MapGet("/subjects", () => Json(new JsonArray([.. store.Subjects().Select(s => (JsonNode)s)])));
        app.MapGet("/subjects/{subject}/versions", (string subject) =>
            store.Versions(Unescape(subject)) is { } versions ? Json(new JsonArray([.. versions.Select(v => (JsonNode)v)])) : Error(RegistryError.SubjectNotFound(Unescape(subject))));
        app.MapGet("/subjects/{subject}/versions/{version}", (string subject, string version) =>
            ParseVersion(version) is not { } v ? Error(InvalidVersion(version))
            : store.At(Unescape(subject), v) is { Error: null } found ? Json(Registered(Unescape(subject), found.Schema!, found.Version))
            : Error(store.At(Unescape(subject), v).Error!));
        app.MapPost("/subjects/{subject}/versions", async (string subject, HttpRequest request) =>
        {
            var schema = await ReadSchemaAsync(request).ConfigureAwait(false);
            var (id, error) = store.Register(Unescape(subject), schema);
            return error is null ? Json(new JsonObject { ["id"] = id }) : Error(error);
        });
        app.MapPost("/subjects/{subject}", async (string subject, HttpRequest request) =>
        {
            var (schema, version, error) = store.Lookup(Unescape(subject), await ReadSchemaAsync(request).ConfigureAwait(false));
            return error is null ? Json(Registered(Unescape(subject), schema!, version)) : Error(error);
        });
        app.MapGet("/schemas/ids/{id:int}", (int id) => store.ById(id) is { } schema
            ? Json(WithSchema(new JsonObject(), schema))
            : Error(new RegistryError(404, 40403, $"Schema {id} not found")));
        app.MapPost("/compatibility/subjects/{subject}/versions/{version}", async (string subject, string version, HttpRequest request) =>
        {
            if (ParseVersion(version) is not { } v)
            {
                return Error(InvalidVersion(version));
            }

            var (problems, error) = store.Check(Unescape(subject), v, await ReadSchemaAsync(request).ConfigureAwait(false));
            if (error is not null)
            {
                return Error(error);
            }

            var answer = new JsonObject { ["is_compatible"] = problems.Count == 0 };
            if (request.Query["verbose"] == "true")
            {
                answer["messages"] = new JsonArray([.. problems.Select(p => (JsonNode)p)]);
            }

            return Json(answer);
        });
        app.MapGet("/config", () => Json(new JsonObject { ["compatibilityLevel"] = store.CompatibilityConfig(null) }));
        app.MapGet("/config/{subject}", (string subject, HttpRequest request) =>
            store.CompatibilityConfig(Unescape(subject)) is { } level ? Json(new JsonObject { ["compatibilityLevel"] = level })
            : request.Query["defaultToGlobal"] == "true" ? Json(new JsonObject { ["compatibilityLevel"] = store.CompatibilityConfig(null) })
            : Error(new RegistryError(404, 40408, $"Subject '{Unescape(subject)}' does not have subject-level compatibility configured")));
        app.MapPut("/config", (HttpRequest request) => SetConfigAsync(store, null, request));
        app.MapPut("/config/{subject}", (string subject, HttpRequest request) => SetConfigAsync(store, Unescape(subject), request));
        app.MapFallback(() => Error(new RegistryError(404, 404, "HTTP 404 Not Found")));
    }

    private static async Task<IResult> SetConfigAsync(RegistryStore store, string? subject, HttpRequest request)
    {
        var body = await JsonNode.ParseAsync(request.Body).ConfigureAwait(false);
        var level = body?["compatibility"]?.GetValue<string>()?.ToUpperInvariant();
        if (level is null || !RegistryStore.Levels.Contains(level))
        {
            return Error(new RegistryError(422, 42203,
                "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"));
        }

        store.SetCompatibility(subject, level);
        return Json(new JsonObject { ["compatibility"] = level });
    }

    private static async Task<SchemaRequest> ReadSchemaAsync(HttpRequest request)
    {
        var body = await JsonNode.ParseAsync(request.Body).ConfigureAwait(false);
        var references = body?["references"]?.AsArray().Select(r => new SchemaRef(
            r!["name"]!.GetValue<string>(), r["subject"]!.GetValue<string>(), r["version"]!.GetValue<int>())).ToArray() ?? [];
        return new SchemaRequest(body?["schemaType"]?.GetValue<string>() ?? "AVRO", body?["schema"]?.GetValue<string>() ?? "", references);
    }

    private static JsonObject Registered(string subject, StoredSchema schema, int version) =>
        WithSchema(new JsonObject { ["subject"] = subject, ["version"] = version, ["id"] = schema.Id }, schema);

    private static JsonObject WithSchema(JsonObject answer, StoredSchema schema)
    {
        answer["schemaType"] = schema.Request.SchemaType;
        answer["schema"] = schema.Request.Schema;
        if (schema.Request.References.Count > 0)
        {
            answer["references"] = schema.Request.ReferencesJson();
        }

        return answer;
    }

    private static bool TakeOne(StrongBox<int> remaining)
    {
        int left;
        do
        {
            left = Volatile.Read(ref remaining.Value);
            if (left <= 0)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref remaining.Value, left - 1, left) != left);

        return true;
    }

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues value) => value.Count == 0 ? null : value.ToString();

    private static int? ParseVersion(string version) =>
        version == "latest" ? -1 : int.TryParse(version, out var v) && v >= 1 ? v : null;

    private static RegistryError InvalidVersion(string version) => new(422, 42202,
        $"The specified version '{version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");

    // Clients escape '/' in subjects (google/protobuf/timestamp.proto); the server leaves %2F in route values.
    private static string Unescape(string subject) => Uri.UnescapeDataString(subject);

    private static IResult Json(JsonNode body) => Results.Text(body.ToJsonString(), ContentType, statusCode: 200);

    private static IResult Error(RegistryError error) =>
        Results.Text(new JsonObject { ["error_code"] = error.ErrorCode, ["message"] = error.Message }.ToJsonString(), ContentType, statusCode: error.Status);
}
