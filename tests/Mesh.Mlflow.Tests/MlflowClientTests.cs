using System.Net;
using System.Text;

namespace Mesh.Mlflow.Tests;

/// <summary>The MLflow client against a server answering as MLflow's REST API documentation specifies.</summary>
public sealed class MlflowClientTests() : FakeMlflowTests<FakeMlflowServer>(FakeMlflowServer.StartAsync)
{
    private readonly string _destination = Path.Combine(Path.GetTempPath(), "mesh-mlflow-download-" + Guid.NewGuid().ToString("N"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_destination))
        {
            Directory.Delete(_destination, recursive: true);
        }
    }

    [Fact]
    public async Task ResolveAsync_AliasVersionAndRunUris_FindVersionAndArtifactUri()
    {
        Server.AddVersion("iris", "1", "run-a");
        Server.AddVersion("iris", "2", "run-b");
        Server.SetAlias("iris", "champion", "2");
        var client = Client();

        var byAlias = await Parse("models:/iris@champion").ResolveAsync(client);
        var byVersion = await Parse("models:/iris/1").ResolveAsync(client);
        var byRun = await Parse("runs:/run-a/model").ResolveAsync(client);

        Assert.Equal(("iris", "2", "mlflow-artifacts:/0/run-b/artifacts/model"), (byAlias.Name, byAlias.Version, byAlias.ArtifactUri));
        Assert.Equal(("iris", "1", "mlflow-artifacts:/0/run-a/artifacts/model"), (byVersion.Name, byVersion.Version, byVersion.ArtifactUri));
        Assert.Equal(("", "run-a", "mlflow-artifacts:/0/run-a/artifacts/model"), (byRun.Name, byRun.Version, byRun.ArtifactUri));
    }

    [Fact]
    public async Task ResolveAsync_VersionRegisteredFromRun_ResolvesRunsSourceThroughTheRunsArtifactUri()
    {
        // get-download-uri answers the source unchanged: runs:/run-a/model.
        Server.AddVersion("iris", "1", "run-a");

        var resolved = await Parse("models:/iris/1").ResolveAsync(Client());

        Assert.Equal("mlflow-artifacts:/0/run-a/artifacts/model", resolved.ArtifactUri);
        Assert.Equal("runs:/run-a/model", resolved.Source);
    }

    [Fact]
    public async Task ResolveAsync_LatestAndLoggedModelUris_FindHighestVersionAndLoggedModelsArtifacts()
    {
        Server.AddVersion("iris", "1", "run-a");
        Server.AddVersion("iris", "10", "run-b");
        Server.AddVersion("iris", "9", "run-c");
        Server.AddLoggedModel("m-0123abcd");
        Server.AddVersion("iris", "11", "run-d", source: "models:/m-0123abcd");
        var client = Client();

        var latest = await Parse("models:/iris/latest").ResolveAsync(client);
        var logged = await Parse("models:/m-0123abcd").ResolveAsync(client);
        var fromLogged = await Parse("models:/iris/11").ResolveAsync(client);

        Assert.Equal(("iris", "11"), (latest.Name, latest.Version));
        Assert.Equal(("m-0123abcd", "mlflow-artifacts:/0/models/m-0123abcd/artifacts"), (logged.Version, logged.ArtifactUri));
        Assert.Equal("mlflow-artifacts:/0/models/m-0123abcd/artifacts", fromLogged.ArtifactUri);
    }

    [Fact]
    public async Task DownloadArtifactsAsync_ProxiedFolder_CopiesFilesAndSubfoldersByteForByte()
    {
        var folder = Server.AddVersion("iris", "1", "run-a");
        await File.WriteAllTextAsync(Path.Combine(folder, "MLmodel"), "flavors:\n  onnx:\n    onnx_model: model.onnx\n");
        await File.WriteAllBytesAsync(Path.Combine(folder, "model.onnx"), [0, 1, 2, 255]);
        Directory.CreateDirectory(Path.Combine(folder, "extra"));
        await File.WriteAllTextAsync(Path.Combine(folder, "extra", "notes with space.txt"), "hello");

        await Client().DownloadArtifactsAsync("mlflow-artifacts:/0/run-a/artifacts/model", _destination);

        Assert.Equal([0, 1, 2, 255], await File.ReadAllBytesAsync(Path.Combine(_destination, "model.onnx")));
        Assert.StartsWith("flavors:", await File.ReadAllTextAsync(Path.Combine(_destination, "MLmodel")));
        Assert.Equal("hello", await File.ReadAllTextAsync(Path.Combine(_destination, "extra", "notes with space.txt")));
    }

    [Fact]
    public async Task DownloadArtifactsAsync_ServerAnswersAFilePath_RefusedUnlessAllowedAndNothingCopied()
    {
        // A server started with --no-serve-artifacts answers paths on its own disk; this machine's file there is another file.
        var serverDisk = Directory.CreateTempSubdirectory("mlflow-server-disk-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(serverDisk.FullName, "model.onnx"), "not the server's model");
            var uri = new Uri(serverDisk.FullName).AbsoluteUri;

            var refused = await Assert.ThrowsAsync<MlflowException>(() => Client().DownloadArtifactsAsync(uri, _destination));
            Assert.Equal("LOCAL_ARTIFACT_URI_REFUSED", refused.ErrorCode);
            Assert.Contains(uri, refused.Message, StringComparison.Ordinal);
            Assert.Contains("ModelHost:Mlflow:AllowLocalArtifacts", refused.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(_destination));

            // Where the store is mounted at the same path, an operator may allow it.
            await Client(o => o.AllowLocalArtifacts = true).DownloadArtifactsAsync(uri, _destination);
            Assert.Equal("not the server's model", await File.ReadAllTextAsync(Path.Combine(_destination, "model.onnx")));
        }
        finally
        {
            serverDisk.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DownloadArtifactsAsync_MissingPathBehindProxy_NotFoundWithoutRetrying()
    {
        var folder = Server.AddVersion("iris", "1", "run-a");
        await File.WriteAllBytesAsync(Path.Combine(folder, "model.onnx"), [1]);
        var before = Server.Requests;

        var missingFile = await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() => Client().DownloadArtifactsAsync("mlflow-artifacts:/0/run-a/artifacts/model/weights.bin", _destination));
        var requests = Server.Requests - before;
        var missingFolder = await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() => Client().DownloadArtifactsAsync("mlflow-artifacts:/0/run-zzz/artifacts/model", _destination));

        // One listing of the path, one of its folder; no download answered 500 and retried five times.
        Assert.Equal(2, requests);
        Assert.Contains("'mlflow-artifacts:/0/run-a/artifacts/model/weights.bin' does not exist", missingFile.Message);
        Assert.Contains("does not exist", missingFolder.Message);
    }

    [Fact]
    public async Task DownloadArtifactsAsync_SingleFileBehindProxy_DownloadsIt()
    {
        var folder = Server.AddVersion("iris", "1", "run-a");
        await File.WriteAllBytesAsync(Path.Combine(folder, "model.onnx"), [7, 8]);

        await Client().DownloadArtifactsAsync("mlflow-artifacts:/0/run-a/artifacts/model/model.onnx", _destination);

        Assert.Equal([7, 8], await File.ReadAllBytesAsync(Path.Combine(_destination, "model.onnx")));
    }

    [Fact]
    public async Task GetModelVersionByAliasAsync_UnknownAlias_ResourceNotFoundWithServerMessage()
    {
        Server.AddVersion("iris", "1", "run-a");

        var error = await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() => Client().GetModelVersionByAliasAsync("iris", "nope"));

        // The real server's answer: 400 INVALID_PARAMETER_VALUE, which the client names for what it is.
        Assert.Equal(MlflowErrorCodes.ResourceDoesNotExist, error.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("alias nope not found", error.Message);
    }

    [Fact]
    public async Task GetAsync_TwoUnavailableAnswersThenSuccess_Retries()
    {
        Server.AddVersion("iris", "3", "run-c");
        Server.FailNext(2, 503);

        var version = await Client().GetModelVersionAsync("iris", "3");

        Assert.Equal("run-c", version.RunId);
        Assert.Equal(3, Server.Requests);
    }

    [Fact]
    public async Task GetAsync_RateLimitedBeyondRetries_RequestLimitExceeded()
    {
        Server.AddVersion("iris", "3", "run-c");
        Server.FailNext(10, 429);

        var error = await Assert.ThrowsAsync<MlflowException>(() => Client(maxRetries: 2).GetModelVersionAsync("iris", "3"));

        Assert.Equal(MlflowErrorCodes.RequestLimitExceeded, error.ErrorCode);
        Assert.Equal(3, Server.Requests);
    }

    [Fact]
    public async Task Requests_WithTokenOrBasicAuth_SendMlflowsAuthorizationHeaders()
    {
        Server.AddVersion("iris", "1", "run-a");
        Server.RequiredAuthorization = "Bearer secret-token";
        var withToken = Client(o => o.Token = "secret-token");
        var basic = Client(o => (o.Username, o.Password) = ("ada", "pw"));

        await withToken.GetModelVersionAsync("iris", "1");
        var denied = await Assert.ThrowsAsync<MlflowAccessDeniedException>(() => basic.GetModelVersionAsync("iris", "1"));

        Assert.Equal(MlflowErrorCodes.Unauthenticated, denied.ErrorCode);
        Assert.Contains("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ada:pw")), Server.AuthorizationSeen);
    }

    [Fact]
    public void FromEnvironment_MlflowVariables_AreRead()
    {
        var variables = new Dictionary<string, string>
        {
            ["MLFLOW_TRACKING_URI"] = "https://mlflow.example:5000",
            ["MLFLOW_TRACKING_TOKEN"] = "t",
            ["MLFLOW_TRACKING_USERNAME"] = "u",
            ["MLFLOW_TRACKING_PASSWORD"] = "p",
            ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "3",
            ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "0.5",
            ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "30",
        };

        var options = MlflowClientOptions.FromEnvironment(name => variables.GetValueOrDefault(name));

        Assert.Equal(new Uri("https://mlflow.example:5000"), options.TrackingUri);
        Assert.Equal(("t", "u", "p", 3, 0.5, TimeSpan.FromSeconds(30)), (options.Token, options.Username, options.Password, options.MaxRetries, options.BackoffFactor, options.RequestTimeout));
        var error = Assert.Throws<FormatException>(() => MlflowClientOptions.FromEnvironment(name => name == "MLFLOW_TRACKING_URI" ? "databricks" : null));
        Assert.Contains("MLFLOW_TRACKING_URI", error.Message);
    }

    [Theory]
    [InlineData("models:/iris@champion", MlflowModelUriKind.Alias, "iris", "champion", null, null, null)]
    [InlineData("models:/iris/12", MlflowModelUriKind.Version, "iris", null, "12", null, null)]
    [InlineData("runs:/0a1b2c/model/onnx", MlflowModelUriKind.Run, "", null, null, "0a1b2c", "model/onnx")]
    [InlineData("models:/iris/latest", MlflowModelUriKind.Latest, "iris", null, null, null, null)]
    [InlineData("models:/m-4f3a0e4c5b7d", MlflowModelUriKind.LoggedModel, "", null, "m-4f3a0e4c5b7d", null, null)]
    public void TryParse_ValidUris_AreUnderstood(string text, MlflowModelUriKind kind, string name, string? alias, string? version, string? runId, string? path)
    {
        Assert.True(MlflowModelUri.TryParse(text, out var uri, out _));
        Assert.Equal(new MlflowModelUri(kind, name, alias, version, runId, path) { Text = text }, uri);
    }

    [Theory]
    [InlineData("models:/iris")]
    [InlineData("models:/iris/newest")]
    [InlineData("models:/iris@")]
    [InlineData("runs:/only-a-run")]
    [InlineData("s3://bucket/model")]
    public void TryParse_InvalidUris_ExplainWhatIsExpected(string text)
    {
        Assert.False(MlflowModelUri.TryParse(text, out _, out var error));
        Assert.Contains(text, error);
        Assert.Contains("models:/<name>", error.Replace("runs:/<run-id>/<path>", "models:/<name>"));
    }

    private static MlflowModelUri Parse(string text) =>
        MlflowModelUri.TryParse(text, out var uri, out var error) ? uri! : throw new ArgumentException(error);

    private MlflowClient Client(int maxRetries = 5) => Client(o => o.MaxRetries = maxRetries);

    private MlflowClient Client(Action<MlflowClientOptions> configure) => ClientOf(o =>
    {
        o.BackoffFactor = 0;
        configure(o);
    });
}
