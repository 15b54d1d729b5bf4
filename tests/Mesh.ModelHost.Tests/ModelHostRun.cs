namespace Mesh.ModelHost.Tests;

/// <summary>
/// A model host in the test process, built as Program.cs builds it, with a gRPC client and an HTTP client on its
/// two endpoints; started and ready (<c>ServerReady</c>) before a test uses it, stopped on dispose. Whoever starts
/// it owns what its settings name (a model folder; a fake MLflow server and the model cache folder, which outlive a
/// host: a restart reuses them).
/// </summary>
internal sealed class ModelHostRun : IAsyncDisposable
{
    private ModelHostRun(WebApplication app)
    {
        App = app;
        GrpcUri = app.GetEndpointUri("Grpc");
        HttpUri = app.GetEndpointUri("Http");
        Channel = GrpcChannel.ForAddress(GrpcUri);
        Client = new GRPCInferenceService.GRPCInferenceServiceClient(Channel);
        Http = new HttpClient { BaseAddress = HttpUri };
    }

    public WebApplication App { get; }

    public Uri GrpcUri { get; }

    public Uri HttpUri { get; }

    public GrpcChannel Channel { get; }

    public GRPCInferenceService.GRPCInferenceServiceClient Client { get; }

    /// <summary>On the HTTP endpoint, with <c>Authorization: Bearer &lt;admin token&gt;</c> when one is set.</summary>
    public HttpClient Http { get; }

    /// <summary>The host's settings: no model folder, <paramref name="mlflow"/> as tracking server, <paramref name="cache"/> as model cache, then <paramref name="more"/>.</summary>
    public static Dictionary<string, string?> Settings(FakeMlflowServer mlflow, string cache, int pollSeconds, IReadOnlyDictionary<string, string?> more)
    {
        var settings = new Dictionary<string, string?>(FolderHostFixture.Settings(Path.Combine(cache, "no-repository")))
        {
            ["ModelHost:Mlflow:TrackingUri"] = mlflow.Uri.ToString(),
            ["ModelHost:Mlflow:CacheDir"] = cache,
            ["ModelHost:Mlflow:PollSeconds"] = pollSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static async Task<ModelHostRun> StartAsync(IReadOnlyDictionary<string, string?> settings, string? adminToken = null)
    {
        var app = ModelHostApp.Create([], settings);
        await app.StartAsync();
        var run = new ModelHostRun(app);
        if (adminToken is not null)
        {
            run.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        }

        await WaitUntil(async () => (await run.Client.ServerReadyAsync(new ServerReadyRequest())).Ready, "the host to become ready");
        return run;
    }

    /// <summary>A bounded wait for background work (loading, polling); not an assertion on time.</summary>
    public static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {what} after 60 s");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
